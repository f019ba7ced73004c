using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using OpenMint.Core.Minting;

namespace OpenMint.Api.Endpoints;

/// <summary>
/// The create endpoint's 202: the four limit values as strings. A typed result of its own so intake's hot
/// path writes the body straight to the response instead of going through the serializer.
/// </summary>
internal sealed class MintAccepted(MintingApi.LimitValues limits) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public MintingApi.LimitValues Limits => limits;

    public int? StatusCode => StatusCodes.Status202Accepted;

    public string ContentType => "application/json; charset=utf-8";

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status202Accepted;
        httpContext.Response.ContentType = ContentType;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("imx_mint_requests_limit", limits.Limit);
            w.WriteString("imx_mint_requests_limit_reset", limits.Reset);
            w.WriteString("imx_remaining_mint_requests", limits.Remaining);
            w.WriteString("imx_mint_requests_retry_after", limits.RetryAfter);
            w.WriteEndObject();
        }
        httpContext.Response.ContentLength = buffer.WrittenCount;
        return httpContext.Response.Body.WriteAsync(buffer.WrittenMemory, httpContext.RequestAborted).AsTask();
    }
}

/// <summary>The 200 read shape shared by get-by-id and list (<c>{result: [...], page: {...}}</c>), written straight to the response.</summary>
internal sealed class MintRequestsResult(IReadOnlyList<MintRequestRecord> items, MintingTarget target, string? previous, string? next)
    : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public IReadOnlyList<MintRequestRecord> Items => items;

    public string? PreviousCursor => previous;

    public string? NextCursor => next;

    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => "application/json; charset=utf-8";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = ContentType;
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer))
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
        await httpContext.Response.Body.WriteAsync(buffer.WrittenMemory, httpContext.RequestAborted).ConfigureAwait(false);
    }
}
