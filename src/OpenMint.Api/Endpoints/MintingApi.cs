using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api.Auth;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;

namespace OpenMint.Api.Endpoints;

/// <summary>API.md section 1: mint requests.</summary>
public static class MintingApi
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 200;

    public static IServiceCollection AddMintingApi(this IServiceCollection services, IConfiguration configuration, OpenMintStore store)
    {
        services.AddSingleton<IMintStore>(store);
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<MintingContext>();
        return services;
    }

    public static IEndpointRouteBuilder MapMintingApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/chains/{chain_name}/collections/{contract_address}/nfts/mint-requests");
        group.MapPost("", CreateAsync);
        group.MapGet("", ListAsync);
        group.MapGet("/{reference_id}", GetAsync);
        return routes;
    }

    internal static async Task<IResult> CreateAsync(HttpContext http, string chain_name, string contract_address, MintingContext context, IMintStore store, CancellationToken ct)
    {
        var (target, error) = await context.ResolveAsync(http.Request, chain_name, contract_address, ct).ConfigureAwait(false);
        if (target is null)
        {
            return error!;
        }
        if (!target.Collection.MintingEnabled)
        {
            return ApiErrors.NotSponsored(target.Chain.Name, target.Collection.Address);
        }

        var (body, length, bodyError) = await RequestBody.ReadAsync(http.Request, ApiLimits.MaxRequestBodyBytes, ct).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }
        MintParseResult parsed;
        try
        {
            parsed = MintRequestParser.Parse(body.AsMemory(0, length), target.Collection.Kind, target.Collection.Variant);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
        if (parsed.Error is not null)
        {
            return ApiErrors.ValidationError(parsed.Error);
        }

        var intake = new MintIntake(target.Collection, target.Chain, parsed.Assets!, target.Project.MintLimitPerMinute, parsed.RateUnits);
        var outcome = await store.AcceptMintRequestsAsync(intake, ct).ConfigureAwait(false);
        var now = TimeProvider.System.GetUtcNow();
        switch (outcome)
        {
            case MintIntakeOutcome.Accepted accepted:
                {
                    var limits = LimitFields(accepted.Quota, now);
                    WriteLimitHeaders(http.Response, limits);
                    return new AcceptedResult(limits);
                }
            case MintIntakeOutcome.RateLimited limited:
                {
                    var limits = LimitFields(limited.Quota, now);
                    WriteLimitHeaders(http.Response, limits);
                    var seconds = Math.Max(1, (long)Math.Ceiling((limited.Quota.WindowEnd - now).TotalSeconds));
                    http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                    return ApiErrors.Mint(429, "TOO_MANY_REQUESTS_ERROR", "Too many requests");
                }
            case MintIntakeOutcome.Conflict conflict:
                return ApiErrors.Mint(409, "CONFLICT_ERROR", conflict.Message, new { id = conflict.Field, values = conflict.Values });
            default:
                throw new InvalidOperationException($"unexpected intake outcome {outcome}");
        }
    }

    internal static async Task<IResult> GetAsync(HttpContext http, string chain_name, string contract_address, MintingContext context, IMintStore store, CancellationToken ct)
    {
        var (target, error) = await context.ResolveAsync(http.Request, chain_name, contract_address, ct).ConfigureAwait(false);
        if (target is null)
        {
            return error!;
        }
        var referenceId = RawLastSegment(http);
        var record = await store.GetMintRequestAsync(target.Collection.Id, referenceId, ct).ConfigureAwait(false);
        if (record is null)
        {
            return ApiErrors.NotFound($"mint request with reference_id {referenceId} not found");
        }
        return new MintRequestsResult([record], target, null, null);
    }

    internal static async Task<IResult> ListAsync(HttpContext http, string chain_name, string contract_address, MintingContext context, IMintStore store, CancellationToken ct)
    {
        var (target, error) = await context.ResolveAsync(http.Request, chain_name, contract_address, ct).ConfigureAwait(false);
        if (target is null)
        {
            return error!;
        }
        var query = http.Request.Query;
        var pageSize = DefaultPageSize;
        var sizeText = query["page_size"].ToString();
        if (sizeText.Length > 0 && (!int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
        {
            return ApiErrors.ValidationError($"page_size: must be an integer between 1 and {MaxPageSize}");
        }
        MintStatus? status = null;
        var statusText = query["status"].ToString();
        if (statusText.Length > 0)
        {
            if (statusText is not ("pending" or "succeeded" or "failed"))
            {
                return ApiErrors.ValidationError("status: must be one of \"pending\", \"succeeded\", \"failed\"");
            }
            status = MintStatusNames.Parse(statusText);
        }
        var cursor = query["page_cursor"].ToString();
        MintRequestPage page;
        try
        {
            page = await store.ListMintRequestsAsync(target.Collection.Id, status, cursor.Length == 0 ? null : cursor, pageSize, ct).ConfigureAwait(false);
        }
        catch (FormatException)
        {
            return ApiErrors.ValidationError("page_cursor: not a cursor returned by this API");
        }
        return new MintRequestsResult(page.Items, target, page.PreviousCursor, page.NextCursor);
    }

    /// <summary>
    /// The reference id exactly as sent: routing leaves <c>%2F</c> encoded in route values while decoding
    /// everything else, so the raw request target is decoded once here instead.
    /// </summary>
    private static string RawLastSegment(HttpContext http)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? http.Request.Path.Value ?? "";
        var q = raw.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            raw = raw[..q];
        }
        var segment = raw[(raw.LastIndexOf('/') + 1)..];
        return Uri.UnescapeDataString(segment);
    }

    internal sealed record LimitValues(string Limit, string Reset, string Remaining, string RetryAfter);

    internal static LimitValues LimitFields(MintQuota quota, DateTimeOffset now)
    {
        var untilReset = Math.Max(0, (quota.WindowEnd - now).TotalSeconds);
        return new LimitValues(
            quota.Limit.ToString(CultureInfo.InvariantCulture),
            quota.WindowEnd.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            quota.Remaining.ToString(CultureInfo.InvariantCulture),
            untilReset.ToString("0.00", CultureInfo.InvariantCulture) + "-seconds");
    }

    private static void WriteLimitHeaders(HttpResponse response, LimitValues v)
    {
        response.Headers["imx-mint-requests-limit"] = v.Limit;
        response.Headers["imx-mint-requests-limit-reset"] = v.Reset;
        response.Headers["imx-remaining-mint-requests"] = v.Remaining;
        response.Headers["imx-mint-requests-retry-after"] = v.RetryAfter;
    }

    /// <summary>The 202 body: the four limit values as strings, written straight to the response.</summary>
    private sealed class AcceptedResult(LimitValues limits) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status202Accepted;
            httpContext.Response.ContentType = "application/json; charset=utf-8";
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

    /// <summary>The read shape shared by get-by-id and list, written straight to the response.</summary>
    private sealed class MintRequestsResult(IReadOnlyList<MintRequestRecord> items, MintingTarget target, string? previous, string? next) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = 200;
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            var buffer = new ArrayBufferWriter<byte>(4096);
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteStartArray("result");
                foreach (var r in items)
                {
                    WriteMintRequest(w, r, target);
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

    internal static void WriteMintRequest(Utf8JsonWriter w, MintRequestRecord r, MintingTarget target)
    {
        w.WriteStartObject();
        target.Chain.WriteJson(w);
        w.WriteString("collection_address", target.Collection.Address);
        w.WriteString("reference_id", r.ReferenceId);
        w.WriteString("owner_address", r.OwnerAddress);
        w.WriteString("token_id", r.TokenId is not null && (!r.ByQuantity || r.Status == MintStatus.Succeeded) ? r.TokenId : null);
        w.WriteString("amount", r.Amount);
        w.WriteString("activity_id", r.ActivityId);
        w.WriteString("transaction_hash", r.TransactionHash);
        w.WriteString("status", r.Status.ToWire());
        if (r.ErrorMessage is null)
        {
            w.WriteNull("error");
        }
        else
        {
            w.WriteStartObject("error");
            w.WriteString("message", r.ErrorMessage);
            w.WriteEndObject();
        }
        w.WriteString("created_at", Time.ToWire(r.CreatedAt));
        w.WriteString("updated_at", Time.ToWire(r.UpdatedAt));
        w.WriteEndObject();
    }
}

/// <summary>Reads a request body into a pooled buffer with a size cap, turning every transport-level problem into a 400.</summary>
internal static class RequestBody
{
    /// <summary>
    /// Bodies over the cap are still read (and dropped) up to this size before answering: a client that is
    /// still sending would otherwise see a reset connection instead of the 400.
    /// </summary>
    public const long DrainLimit = 64L * 1024 * 1024;

    public static async Task<(byte[] Buffer, int Length, IResult? Error)> ReadAsync(HttpRequest request, long cap, CancellationToken ct)
    {
        var tooLarge = ApiErrors.ValidationError($"request body is larger than {cap} bytes; send at most {MintRequestParser.MaxAssets} assets with metadata of at most {MintRequestParser.MaxMetadataBytes} bytes each");
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = DrainLimit;
        }
        if (request.ContentLength > DrainLimit)
        {
            return ([], 0, tooLarge);
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 16 * 1024, cap) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, cap + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var n = await request.Body.ReadAsync(buffer.AsMemory(length), ct).ConfigureAwait(false);
                if (n == 0)
                {
                    return (buffer, length, null);
                }
                length += n;
                if (length > cap)
                {
                    while (await request.Body.ReadAsync(buffer, ct).ConfigureAwait(false) > 0)
                    {
                    }
                    ArrayPool<byte>.Shared.Return(buffer);
                    return ([], 0, tooLarge);
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return ([], 0, ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? tooLarge : ApiErrors.ValidationError($"request body could not be read: {ex.Message}"));
        }
    }
}
