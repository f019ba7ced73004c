using System.Text.Json;
using Microsoft.AspNetCore.Http;
using OpenMint.Core.Minting;

namespace OpenMint.Api.Endpoints;

/// <summary>
/// The create endpoint's 202: the four limit values as strings. Written straight into the response's pipe from UTF-8
/// pieces: this answer goes out for every accepted request, and a <see cref="Utf8JsonWriter"/> over a growable buffer cost
/// ~5 KB of garbage per answer (its first growth is 4 KB). The values are digits, an ISO time and a decimal with a unit,
/// none of which JSON escapes, so the bytes are exactly what the writer produced.
/// </summary>
internal sealed class MintAccepted(MintingApi.LimitValues limits) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    private static readonly byte[] LimitField = "{\"imx_mint_requests_limit\":\""u8.ToArray();
    private static readonly byte[] ResetField = "\",\"imx_mint_requests_limit_reset\":\""u8.ToArray();
    private static readonly byte[] RemainingField = "\",\"imx_remaining_mint_requests\":\""u8.ToArray();
    private static readonly byte[] RetryAfterField = "\",\"imx_mint_requests_retry_after\":\""u8.ToArray();
    private static readonly byte[] End = "\"}"u8.ToArray();

    public MintingApi.LimitValues Limits => limits;

    public int? StatusCode => StatusCodes.Status202Accepted;

    public string ContentType => "application/json; charset=utf-8";

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status202Accepted;
        response.ContentType = ContentType;
        var length = LimitField.Length + ResetField.Length + RemainingField.Length + RetryAfterField.Length + End.Length
            + limits.Limit.Length + limits.Reset.Length + limits.Remaining.Length + limits.RetryAfter.Length;
        response.ContentLength = length;
        var span = response.BodyWriter.GetSpan(length);
        var at = Append(span, 0, LimitField, limits.Limit);
        at = Append(span, at, ResetField, limits.Reset);
        at = Append(span, at, RemainingField, limits.Remaining);
        at = Append(span, at, RetryAfterField, limits.RetryAfter);
        End.CopyTo(span[at..]);
        response.BodyWriter.Advance(length);
        var flush = response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }

    /// <summary>Writes <paramref name="field"/> then the ASCII <paramref name="value"/> at <paramref name="at"/>; returns the next position.</summary>
    private static int Append(Span<byte> span, int at, byte[] field, string value)
    {
        field.CopyTo(span[at..]);
        at += field.Length;
        at += System.Text.Encoding.ASCII.GetBytes(value, span[at..]);
        return at;
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
