using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api.Auth;
using OpenMint.Api.Telemetry;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using OpenMint.Core.Telemetry;

namespace OpenMint.Api.Endpoints;

/// <summary>docs/api.md, mint requests: create, get by reference id, list.</summary>
public static class MintingApi
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 200;

    public static IServiceCollection AddMintingApi(this IServiceCollection services, IConfiguration configuration)
    {
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

    /// <summary>
    /// Refusals are counted here (<see cref="IntakeMetrics"/>) rather than in an endpoint filter: a filter makes every
    /// call box its eight arguments and go through the generic filter pipeline, on the API's hottest path.
    /// </summary>
    internal static async Task<Results<MintAccepted, ApiError>> CreateAsync(
        HttpContext http, string chain_name, string contract_address, MintingContext context, IMintStore store, TimeProvider time,
        Core.Events.MintEventSignal events, Core.Pipeline.MintQueueSignal queued, CancellationToken ct)
    {
        var result = await AcceptAsync(http, chain_name, contract_address, context, store, time, events, queued, ct).ConfigureAwait(false);
        if (result.Result is ApiError error)
        {
            IntakeMetrics.Rejected(error);
        }
        return result;
    }

    private static async Task<Results<MintAccepted, ApiError>> AcceptAsync(
        HttpContext http, string chain_name, string contract_address, MintingContext context, IMintStore store, TimeProvider time,
        Core.Events.MintEventSignal events, Core.Pipeline.MintQueueSignal queued, CancellationToken ct)
    {
        if (!(await context.ResolveAsync(http.Request, chain_name, contract_address, ct).ConfigureAwait(false)).TryGet(out var target, out var error))
        {
            return error;
        }
        if (!target.Collection.MintingEnabled)
        {
            return ApiErrors.NotSponsored(target.Chain.Name, target.Collection.Address);
        }
        if (!(await RequestBody.ReadAsync(http.Request, ApiLimits.MaxRequestBodyBytes, ct).ConfigureAwait(false)).TryGet(out var body, out error))
        {
            return error;
        }
        MintParseResult parsed;
        using (body)
        {
            parsed = MintRequestParser.Parse(body.Memory, target.Collection.Kind, target.Collection.Variant);
        }
        if (parsed.Error is not null)
        {
            return ApiErrors.ValidationError(parsed.Error);
        }

        var intake = new MintIntake(target.Collection, target.Chain, parsed.Assets!, target.Project.MintLimitPerMinute, parsed.RateUnits);
        var outcome = await store.AcceptMintRequestsAsync(intake, ct).ConfigureAwait(false);
        var now = time.GetUtcNow();
        switch (outcome)
        {
            case MintIntakeOutcome.Accepted accepted:
                {
                    var limits = LimitFields(accepted.Quota, now);
                    WriteLimitHeaders(http.Response, limits);
                    OpenMintMetrics.Accepted(target.Chain.Name, target.Collection.Address, parsed.Assets!.Count);
                    events.Notify(); // the `pending` events are committed: this instance's webhook worker fans out now
                    queued.Notify(); // and on a chain that mines as txs arrive, this instance's pipeline sends them now
                    return new MintAccepted(limits);
                }
            case MintIntakeOutcome.RateLimited limited:
                {
                    WriteLimitHeaders(http.Response, LimitFields(limited.Quota, now));
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

    internal static async Task<Results<MintRequestsResult, ApiError>> GetAsync(
        HttpContext http, string chain_name, string contract_address, MintingContext context, IMintStore store, CancellationToken ct)
    {
        if (!(await context.ResolveAsync(http.Request, chain_name, contract_address, ct).ConfigureAwait(false)).TryGet(out var target, out var error))
        {
            return error;
        }
        var referenceId = RawLastSegment(http);
        var record = await store.GetMintRequestAsync(target.Collection.Id, referenceId, ct).ConfigureAwait(false);
        if (record is null)
        {
            return ApiErrors.NotFound($"mint request with reference_id {referenceId} not found");
        }
        return new MintRequestsResult([record], target, null, null);
    }

    internal static async Task<Results<MintRequestsResult, ApiError>> ListAsync(
        HttpContext http, string chain_name, string contract_address, MintingContext context, IMintStore store, CancellationToken ct)
    {
        if (!(await context.ResolveAsync(http.Request, chain_name, contract_address, ct).ConfigureAwait(false)).TryGet(out var target, out var error))
        {
            return error;
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
        if (cursor.Length > 0 && !PageCursor.TryDecode(cursor, PageCursor.MintRequestKinds, out _, out _))
        {
            return ApiErrors.ValidationError("page_cursor: not a cursor returned by this API");
        }
        var page = await store.ListMintRequestsAsync(target.Collection.Id, status, cursor.Length == 0 ? null : cursor, pageSize, ct).ConfigureAwait(false);
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
        return new LimitValues(
            quota.Limit.ToString(CultureInfo.InvariantCulture),
            ResetText(quota.WindowEnd),
            quota.Remaining.ToString(CultureInfo.InvariantCulture),
            SecondsText(quota.WindowEnd - now));
    }

    /// <summary>
    /// The time left as "59.99-seconds": hundredths, half a hundredth rounded up, from the ticks (a double formatted with
    /// "0.00" cost ~9 % of the create handler).
    /// </summary>
    internal static string SecondsText(TimeSpan left)
    {
        var hundredths = (Math.Max(0, left.Ticks) + TimeSpan.TicksPerMillisecond * 5) / (TimeSpan.TicksPerMillisecond * 10);
        return string.Create(CultureInfo.InvariantCulture, $"{hundredths / 100}.{hundredths % 100:D2}-seconds");
    }

    private sealed record WindowEndText(DateTimeOffset End, string Text);

    private static WindowEndText? _lastWindowEnd;

    /// <summary>The window's end as the reset header writes it; every request in a window has the same one, so the last is kept.</summary>
    private static string ResetText(DateTimeOffset end)
    {
        var last = Volatile.Read(ref _lastWindowEnd);
        if (last is null || last.End != end)
        {
            last = new WindowEndText(end, end.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            Volatile.Write(ref _lastWindowEnd, last);
        }
        return last.Text;
    }

    private static void WriteLimitHeaders(HttpResponse response, LimitValues v)
    {
        response.Headers["imx-mint-requests-limit"] = v.Limit;
        response.Headers["imx-mint-requests-limit-reset"] = v.Reset;
        response.Headers["imx-remaining-mint-requests"] = v.Remaining;
        response.Headers["imx-mint-requests-retry-after"] = v.RetryAfter;
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
