using System.Text.Json;
using Microsoft.AspNetCore.Http;
using OpenMint.Core.Minting;

namespace OpenMint.Api.Endpoints;

/// <summary>
/// The create endpoint's 202: the four limit values as strings. A typed result of its own so intake's hot
/// path writes the body straight to the response instead of going through the serializer.
/// </summary>
internal sealed class MintAccepted(MintingApi.LimitValues limits) : Utf8JsonResult(StatusCodes.Status202Accepted, 256)
{
    public MintingApi.LimitValues Limits => limits;

    protected override void WriteBody(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("imx_mint_requests_limit", limits.Limit);
        w.WriteString("imx_mint_requests_limit_reset", limits.Reset);
        w.WriteString("imx_remaining_mint_requests", limits.Remaining);
        w.WriteString("imx_mint_requests_retry_after", limits.RetryAfter);
        w.WriteEndObject();
    }
}

/// <summary>The 200 read shape shared by get-by-id and list (<c>{result: [...], page: {...}}</c>), written straight to the response.</summary>
internal sealed class MintRequestsResult(IReadOnlyList<MintRequestRecord> items, MintingTarget target, string? previous, string? next)
    : Utf8JsonResult(StatusCodes.Status200OK, 4096)
{
    public IReadOnlyList<MintRequestRecord> Items => items;

    public string? PreviousCursor => previous;

    public string? NextCursor => next;

    protected override void WriteBody(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartArray("result");
        foreach (var r in items)
        {
            MintingApi.WriteMintRequest(w, r, target);
        }
        w.WriteEndArray();
        w.WriteStartObject("page");
        w.WriteString("previous_cursor", previous);
        w.WriteString("next_cursor", next);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
