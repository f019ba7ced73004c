using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenMint.Api.Auth;
using OpenMint.Core;
using OpenMint.Core.Events;
using OpenMint.Core.Minting;
using OpenMint.Core.Webhooks;

namespace OpenMint.Api.Endpoints;

/// <summary>
/// docs/api.md, the catch-up feed: <c>GET /v1/events?cursor=&amp;page_size=</c> under the project's API key, every event of the
/// project oldest first, each exactly as a webhook body. It reads only up to the webhook fan-out's position, which moves over a
/// gap-free prefix of the log, so a cursor never steps past an event that commits later with a lower number.
/// </summary>
public static class EventsApi
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 200;

    /// <summary>The <see cref="PageCursor"/> kind of a feed position (a mint_event seq).</summary>
    private const char EventsKind = 'v';

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/events", ListAsync);
        return routes;
    }

    internal static async Task<Results<EventsPage, ApiError>> ListAsync(
        HttpContext http, ApiKeyAuthenticator auth, IMintEventStore events, IWebhookStore webhooks, CancellationToken ct)
    {
        var key = await auth.AuthenticateAsync(http.Request, ct).ConfigureAwait(false);
        if (key is null)
        {
            return ApiErrors.Unauthorised(ApiKeyAuthenticator.MissingKeyProblem(http.Request));
        }
        var query = http.Request.Query;
        var pageSize = DefaultPageSize;
        var sizeText = query["page_size"].ToString();
        if (sizeText.Length > 0 && (!int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
        {
            return ApiErrors.ValidationError($"page_size: must be an integer between 1 and {MaxPageSize}");
        }
        var cursor = query["cursor"].ToString();
        long after = 0;
        if (cursor.Length > 0 && !PageCursor.TryDecode(cursor, EventsKind.ToString(), out _, out after))
        {
            return ApiErrors.ValidationError("cursor: not a cursor returned by this API");
        }
        var upTo = await webhooks.GetFanOutPositionAsync(ct).ConfigureAwait(false);
        var page = await events.ReadProjectEventsAsync(key.ProjectId, after, upTo, pageSize, ct).ConfigureAwait(false);
        var next = page.Count > 0 ? PageCursor.Encode(EventsKind, page[^1].Seq) : cursor.Length > 0 ? cursor : null;
        return new EventsPage(page, next);
    }
}

/// <summary><c>{"result": [event, ...], "page": {"next_cursor": ...}}</c>, each event's stored JSON written as is.</summary>
internal sealed class EventsPage(IReadOnlyList<EventRecord> events, string? nextCursor) : Utf8JsonResult(StatusCodes.Status200OK, 4096)
{
    protected override void WriteBody(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartArray("result");
        foreach (var e in events)
        {
            w.WriteRawValue(e.Payload, skipInputValidation: true);
        }
        w.WriteEndArray();
        w.WriteStartObject("page");
        w.WriteString("next_cursor", nextCursor);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
