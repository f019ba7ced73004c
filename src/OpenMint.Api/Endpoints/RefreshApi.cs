using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api.Refresh;
using OpenMint.Chain;
using OpenMint.Core;
using OpenMint.Core.Refresh;
using OpenMint.Core.Tenancy;
using OpenMint.Core.RateLimits;

namespace OpenMint.Api.Endpoints;

/// <summary>
/// docs/api.md, metadata refreshes. The path names no chain, so a refresh's collection is found by
/// address among every chain's collections; when the signer owns several (the same address on two chains),
/// the oldest registered one is refreshed.
/// </summary>
public static partial class RefreshApi
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    public static IServiceCollection AddRefreshApi(this IServiceCollection services)
    {
        services.AddSingleton<RefreshSignal>();
        services.AddSingleton(sp => new RefreshAuth(sp.GetRequiredService<RefreshOptions>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ISignatureLedger>()));
        return services;
    }

    public static IEndpointRouteBuilder MapRefreshApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/metadata-refreshes");
        group.MapPost("", CreateAsync);
        group.MapGet("", ListAsync);
        group.MapGet("/{refreshId}", GetAsync);
        group.MapGet("/{refreshId}/errors", ErrorsAsync);
        return routes;
    }

    private static ApiError Unauthorised(string problem) => ApiErrors.Refresh(401, "unauthorised_request", "invalid signature headers", problem);
    private static ApiError Forbidden() => ApiErrors.Refresh(403, "authentication_error", "the signer does not own this collection's project");
    private static ApiError Invalid(string message) => ApiErrors.Refresh(400, "validation_error", message);
    private static ApiError NotFound(string message) => ApiErrors.Refresh(404, "resource_not_found", message);

    internal static async Task<Results<Accepted<RefreshCreated>, ApiError>> CreateAsync(
        HttpContext http, RefreshAuth auth, IRefreshStore refreshes, ITenancyStore tenancy, IRateWindowStore store, RefreshSignal signal, TimeProvider time, CancellationToken ct)
    {
        var caller = await auth.AuthenticateOnceAsync(http.Request, ct).ConfigureAwait(false);
        if (!caller.IsAuthenticated)
        {
            return Unauthorised(caller.Problem!);
        }
        if (!(await ReadCreateRequestAsync(http.Request, ct).ConfigureAwait(false)).TryGet(out var request, out var invalid))
        {
            return invalid;
        }
        if (!(await FindOwnedCollectionAsync(refreshes, request.Address, caller.Address!, ct).ConfigureAwait(false)).TryGet(out var collection, out var refusal))
        {
            return refusal;
        }
        var project = await tenancy.GetProjectAsync(collection.ProjectId, ct).ConfigureAwait(false);
        if (project is null)
        {
            return NotFound("collection not found");
        }
        if (request.TokenIds.Count > project.RefreshMaxTokensPerRequest)
        {
            return Invalid($"token_ids: maximum number of items is {project.RefreshMaxTokensPerRequest}");
        }

        var now = time.GetUtcNow();
        if (!(await ConsumeLimitsAsync(http, store, project, request.TokenIds.Count, now, ct).ConfigureAwait(false)).TryGet(out var tokens, out var limited))
        {
            return limited;
        }

        var job = await refreshes.CreateRefreshAsync(new NewRefresh(UuidV7.New(time), collection, request.TokenIds, now), ct).ConfigureAwait(false);
        signal.Notify();
        AddLimitHeaders(http, tokens);
        return TypedResults.Accepted((string?)null, new RefreshCreated(job.RefreshId.ToString("D")));
    }

    private sealed record CreateRequest(string Address, List<string> TokenIds);

    /// <summary>The create body: <c>{"collection_address": "0x..", "token_ids": ["1", ...]}</c>, ids canonical and distinct.</summary>
    private static async Task<Checked<CreateRequest>> ReadCreateRequestAsync(HttpRequest httpRequest, CancellationToken ct)
    {
        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(httpRequest.Body, default, ct).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return Invalid("request body must be a JSON object: {\"collection_address\": \"0x..\", \"token_ids\": [\"1\"]}");
        }
        using var _ = body;
        if (body.RootElement.ValueKind != JsonValueKind.Object)
        {
            return Invalid("request body must be a JSON object: {\"collection_address\": \"0x..\", \"token_ids\": [\"1\"]}");
        }
        if (JsonText.FindInvalidString(body.RootElement) is { } badText)
        {
            return Invalid($"{badText.TrimStart('/')}: not valid text (a lone UTF-16 surrogate escape or invalid UTF-8)");
        }
        if (!body.RootElement.TryGetProperty("collection_address", out var addressElement) || addressElement.ValueKind != JsonValueKind.String
            || !JsonText.TryGetString(addressElement, out var addressText) || !EthAddress.TryParse(addressText, out var address))
        {
            return Invalid("collection_address: must be 0x followed by 40 hex digits");
        }
        if (!body.RootElement.TryGetProperty("token_ids", out var idsElement) || idsElement.ValueKind != JsonValueKind.Array)
        {
            return Invalid("token_ids: must be an array of decimal token id strings");
        }
        if (idsElement.GetArrayLength() == 0)
        {
            return Invalid("token_ids: minimum number of items is 1");
        }
        var tokenIds = new List<string>(idsElement.GetArrayLength());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in idsElement.EnumerateArray())
        {
            var raw = JsonText.Describe(item);
            if (item.ValueKind != JsonValueKind.String || !Uint256.TryCanonicalize(raw, out var id))
            {
                return Invalid($"token_ids: invalid token id {Texts.Shorten(raw ?? "null")}: must be a decimal uint256 string");
            }
            if (!seen.Add(id))
            {
                return Invalid($"token_ids: duplicated token id: {id}");
            }
            tokenIds.Add(id);
        }

        return new CreateRequest(address, tokenIds);
    }

    /// <summary>Requests per second, then tokens per hour; either refusal is a 429 with the hour's headers.</summary>
    private static async Task<Checked<RateDecision>> ConsumeLimitsAsync(HttpContext http, IRateWindowStore store, Project project, int tokenCount, DateTimeOffset now, CancellationToken ct)
    {
        var requests = await store.TryConsumeRateAsync($"refresh-req:{project.Id}", project.RefreshRequestsPerSecond, TimeSpan.FromSeconds(1), 1, now, ct).ConfigureAwait(false);
        if (!requests.Allowed)
        {
            var hour = await store.PeekRateAsync($"refresh-tokens:{project.Id}", project.RefreshTokensPerHour, TimeSpan.FromHours(1), now, ct).ConfigureAwait(false);
            return LimitExceeded(http, hour);
        }
        var tokens = await store.TryConsumeRateAsync($"refresh-tokens:{project.Id}", project.RefreshTokensPerHour, TimeSpan.FromHours(1), tokenCount, now, ct).ConfigureAwait(false);
        return tokens.Allowed ? tokens : LimitExceeded(http, tokens);
    }

    /// <summary>No collection with the address: 404. Collections exist but the signer owns none: 403.</summary>
    private static async Task<Checked<RefreshCollection>> FindOwnedCollectionAsync(IRefreshStore refreshes, string address, string signer, CancellationToken ct)
    {
        var found = await refreshes.FindCollectionsByAddressAsync(address, ct).ConfigureAwait(false);
        if (found.Count == 0)
        {
            return NotFound($"collection {address} not found");
        }
        var owned = found.FirstOrDefault(c => string.Equals(c.OwnerAddress, signer, StringComparison.OrdinalIgnoreCase));
        return owned is null ? Forbidden() : owned;
    }

    private static ApiError LimitExceeded(HttpContext http, RateDecision hour)
    {
        AddLimitHeaders(http, hour);
        return ApiErrors.Refresh(429, "refresh_limit_exceeded", "Refresh limit exceeded");
    }

    private static void AddLimitHeaders(HttpContext http, RateDecision hour)
    {
        http.Response.Headers["x-imx-refreshes-limit"] = hour.Limit.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["x-imx-remaining-refreshes"] = hour.Remaining.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["x-imx-refresh-limit-reset"] = hour.WindowEnd.ToString(CultureInfo.InvariantCulture);
    }

    internal static async Task<Results<Ok<RefreshView>, ApiError>> GetAsync(string refreshId, HttpContext http, RefreshAuth auth, IRefreshStore refreshes, CancellationToken ct)
    {
        var caller = auth.Authenticate(http.Request);
        if (!caller.IsAuthenticated)
        {
            return Unauthorised(caller.Problem!);
        }
        if (!(await FindOwnedRefreshAsync(refreshes, refreshId, caller.Address!, ct).ConfigureAwait(false)).TryGet(out var job, out var refusal))
        {
            return refusal;
        }
        return TypedResults.Ok(RefreshView.From(job));
    }

    internal static async Task<Results<Ok<RefreshListPage<RefreshErrorView>>, ApiError>> ErrorsAsync(
        string refreshId, HttpContext http, RefreshAuth auth, IRefreshStore refreshes, CancellationToken ct)
    {
        var caller = auth.Authenticate(http.Request);
        if (!caller.IsAuthenticated)
        {
            return Unauthorised(caller.Problem!);
        }
        if (!Paging(http.Request, PageCursor.RefreshErrors).TryGet(out var paging, out var problem))
        {
            return problem;
        }
        if (!(await FindOwnedRefreshAsync(refreshes, refreshId, caller.Address!, ct).ConfigureAwait(false)).TryGet(out var job, out var refusal))
        {
            return refusal;
        }
        var page = await refreshes.ListRefreshErrorsAsync(job.Seq, paging.Position, paging.PageSize, ct).ConfigureAwait(false);
        return TypedResults.Ok(new RefreshListPage<RefreshErrorView>(
            page.Items.Select(RefreshErrorView.From).ToList(),
            page.Items.Count == 0 ? http.Request.Query["cursor"].ToString() : PageCursor.Encode(PageCursor.RefreshErrors, page.Items[^1].Id),
            page.HasMore ? 1 : 0));
    }

    internal static async Task<Results<Ok<RefreshListPage<RefreshListItem>>, ApiError>> ListAsync(
        HttpContext http, RefreshAuth auth, IRefreshStore refreshes, CancellationToken ct)
    {
        var caller = auth.Authenticate(http.Request);
        if (!caller.IsAuthenticated)
        {
            return Unauthorised(caller.Problem!);
        }
        if (!Paging(http.Request, PageCursor.Refreshes).TryGet(out var paging, out var problem))
        {
            return problem;
        }
        string? address = null;
        var filter = http.Request.Query["collection_address"].ToString();
        if (filter.Length > 0)
        {
            if (!EthAddress.IsValid(filter))
            {
                return Invalid("collection_address: must be 0x followed by 40 hex digits");
            }
            address = filter.ToLowerInvariant();
            if (!(await FindOwnedCollectionAsync(refreshes, address, caller.Address!, ct).ConfigureAwait(false)).TryGet(out _, out var refusal))
            {
                return refusal;
            }
        }
        var page = await refreshes.ListRefreshesAsync(caller.Address!, address, paging.Position, paging.PageSize, ct).ConfigureAwait(false);
        return TypedResults.Ok(new RefreshListPage<RefreshListItem>(
            page.Items.Select(RefreshListItem.From).ToList(),
            page.Items.Count == 0 ? http.Request.Query["cursor"].ToString() : PageCursor.Encode(PageCursor.Refreshes, page.Items[^1].Seq),
            page.HasMore ? 1 : 0));
    }

    /// <summary>Unknown or malformed id: 404. Someone else's refresh: 403.</summary>
    private static async Task<Checked<RefreshJob>> FindOwnedRefreshAsync(IRefreshStore refreshes, string refreshId, string signer, CancellationToken ct)
    {
        if (!Guid.TryParse(refreshId, out var id))
        {
            return NotFound($"refresh {Texts.Shorten(refreshId)} not found");
        }
        var job = await refreshes.GetRefreshAsync(id, ct).ConfigureAwait(false);
        if (job is null)
        {
            return NotFound($"refresh {id:D} not found");
        }
        return string.Equals(job.OwnerAddress, signer, StringComparison.OrdinalIgnoreCase) ? job : Forbidden();
    }

    private readonly record struct PageRequest(int PageSize, long? Position);

    /// <summary><c>page_size</c> and <c>cursor</c> of both list endpoints; a cursor of another list (or none of ours) is a 400.</summary>
    private static Checked<PageRequest> Paging(HttpRequest request, char kind)
    {
        var pageSize = DefaultPageSize;
        var size = request.Query["page_size"].ToString();
        if (size.Length > 0 && (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > MaxPageSize))
        {
            return Invalid($"page_size: must be 1..{MaxPageSize}");
        }
        var cursor = request.Query["cursor"].ToString();
        if (cursor.Length == 0)
        {
            return new PageRequest(pageSize, null);
        }
        return PageCursor.TryDecode(cursor, kind.ToString(), out _, out var position)
            ? new PageRequest(pageSize, position)
            : Invalid("cursor: not a cursor this endpoint returned");
    }
}
