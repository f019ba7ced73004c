using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api.Refresh;
using OpenMint.Chain;
using OpenMint.Core;
using OpenMint.Core.Refresh;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;

namespace OpenMint.Api.Endpoints;

/// <summary>
/// API.md section 2: metadata refreshes. The path names no chain, so a refresh's collection is found by
/// address among every chain's collections; when the signer owns several (the same address on two chains),
/// the oldest registered one is refreshed.
/// </summary>
public static partial class RefreshApi
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    private static readonly JsonSerializerOptions Wire = new() { PropertyNamingPolicy = null };

    public static IServiceCollection AddRefreshApi(this IServiceCollection services, IConfiguration configuration, OpenMintStore store)
    {
        var options = configuration.GetSection(RefreshOptions.Section).Get<RefreshOptions>() ?? new RefreshOptions();
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton<IRefreshStore>(store);
        services.AddSingleton<RefreshSignal>();
        services.AddSingleton(sp => new RefreshAuth(options, sp.GetRequiredService<TimeProvider>(), new SignatureLedgerStore(store.Db)));
        return services;
    }

    public static IServiceCollection AddRefreshWorker(this IServiceCollection services, IConfiguration configuration, OpenMintStore store)
    {
        services.AddSingleton(sp => new MetadataFetcher(sp.GetRequiredService<RefreshOptions>(), sp.GetRequiredService<TimeProvider>()));
        // eth_call goes to the operator's own RPC endpoint (often loopback), so it does not pass the SSRF guard.
        services.AddSingleton(sp => new BaseUriResolver(store, new HttpClient(), sp.GetRequiredService<RefreshOptions>()));
        services.AddSingleton<RefreshProcessor>();
        services.AddHostedService<RefreshWorkerService>();
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

    private static IResult Unauthorised(string problem) => ApiErrors.Refresh(401, "unauthorised_request", "invalid signature headers", problem);
    private static IResult Forbidden() => ApiErrors.Refresh(403, "authentication_error", "the signer does not own this collection's project");
    private static IResult Invalid(string message) => ApiErrors.Refresh(400, "validation_error", message);
    private static IResult NotFound(string message) => ApiErrors.Refresh(404, "resource_not_found", message);

    internal static async Task<IResult> CreateAsync(
        HttpContext http, RefreshAuth auth, IRefreshStore refreshes, OpenMintStore store, RefreshSignal signal, TimeProvider time, CancellationToken ct)
    {
        var caller = await auth.AuthenticateOnceAsync(http.Request, ct).ConfigureAwait(false);
        if (!caller.IsAuthenticated)
        {
            return Unauthorised(caller.Problem!);
        }
        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(http.Request.Body, default, ct).ConfigureAwait(false);
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
                return Invalid($"token_ids: invalid token id {Shorten(raw)}: must be a decimal uint256 string");
            }
            if (!seen.Add(id))
            {
                return Invalid($"token_ids: duplicated token id: {id}");
            }
            tokenIds.Add(id);
        }

        var (collection, refusal) = await FindOwnedCollectionAsync(refreshes, address, caller.Address!, ct).ConfigureAwait(false);
        if (collection is null)
        {
            return refusal!;
        }
        var project = await store.GetProjectAsync(collection.ProjectId, ct).ConfigureAwait(false);
        if (project is null)
        {
            return NotFound("collection not found");
        }
        if (tokenIds.Count > project.RefreshMaxTokensPerRequest)
        {
            return Invalid($"token_ids: maximum number of items is {project.RefreshMaxTokensPerRequest}");
        }

        var now = time.GetUtcNow();
        var requests = await store.TryConsumeRateAsync($"refresh-req:{project.Id}", project.RefreshRequestsPerSecond, TimeSpan.FromSeconds(1), 1, now, ct).ConfigureAwait(false);
        if (!requests.Allowed)
        {
            var hour = await store.PeekRateAsync($"refresh-tokens:{project.Id}", project.RefreshTokensPerHour, TimeSpan.FromHours(1), now, ct).ConfigureAwait(false);
            return LimitExceeded(http, hour);
        }
        var tokens = await store.TryConsumeRateAsync($"refresh-tokens:{project.Id}", project.RefreshTokensPerHour, TimeSpan.FromHours(1), tokenIds.Count, now, ct).ConfigureAwait(false);
        if (!tokens.Allowed)
        {
            return LimitExceeded(http, tokens);
        }

        var job = await refreshes.CreateRefreshAsync(new NewRefresh(UuidV7.New(time), collection, tokenIds, now), ct).ConfigureAwait(false);
        signal.Notify();
        AddLimitHeaders(http, tokens);
        return Results.Json(new { refresh_id = job.RefreshId.ToString("D") }, Wire, statusCode: 202);
    }

    /// <summary>No collection with the address: 404. Collections exist but the signer owns none: 403.</summary>
    private static async Task<(RefreshCollection? Collection, IResult? Refusal)> FindOwnedCollectionAsync(IRefreshStore refreshes, string address, string signer, CancellationToken ct)
    {
        var found = await refreshes.FindCollectionsByAddressAsync(address, ct).ConfigureAwait(false);
        if (found.Count == 0)
        {
            return (null, NotFound($"collection {address} not found"));
        }
        var owned = found.FirstOrDefault(c => string.Equals(c.OwnerAddress, signer, StringComparison.OrdinalIgnoreCase));
        return owned is null ? (null, Forbidden()) : (owned, null);
    }

    private static IResult LimitExceeded(HttpContext http, RateDecision hour)
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

    internal static async Task<IResult> GetAsync(string refreshId, HttpContext http, RefreshAuth auth, IRefreshStore refreshes, CancellationToken ct)
    {
        var caller = auth.Authenticate(http.Request);
        if (!caller.IsAuthenticated)
        {
            return Unauthorised(caller.Problem!);
        }
        var (job, refusal) = await FindOwnedRefreshAsync(refreshes, refreshId, caller.Address!, ct).ConfigureAwait(false);
        if (job is null)
        {
            return refusal!;
        }
        return Results.Json(new
        {
            refresh_id = job.RefreshId.ToString("D"),
            status = StatusName(job.Status),
            collection_address = job.CollectionAddress,
            started_at = WireTime(job.StartedAt),
            completed_at = WireTime(job.CompletedAt),
            summary = new { succeeded = job.Succeeded, failed = job.Failed, pending = job.Pending },
        }, Wire);
    }

    internal static async Task<IResult> ErrorsAsync(string refreshId, HttpContext http, RefreshAuth auth, IRefreshStore refreshes, CancellationToken ct)
    {
        var caller = auth.Authenticate(http.Request);
        if (!caller.IsAuthenticated)
        {
            return Unauthorised(caller.Problem!);
        }
        if (!TryPaging(http.Request, 'e', out var pageSize, out var after, out var problem))
        {
            return Invalid(problem!);
        }
        var (job, refusal) = await FindOwnedRefreshAsync(refreshes, refreshId, caller.Address!, ct).ConfigureAwait(false);
        if (job is null)
        {
            return refusal!;
        }
        var page = await refreshes.ListRefreshErrorsAsync(job.Seq, after, pageSize, ct).ConfigureAwait(false);
        return Results.Json(new
        {
            result = page.Items.Select(e => new
            {
                token_id = e.TokenId,
                collection_address = e.CollectionAddress,
                client_token_metadata_url = e.Url,
                client_response_status_code = e.StatusCode,
                client_response_body = e.Body,
                error_code = e.ErrorCode,
                created_at = Time.ToWire(e.CreatedAt),
            }),
            cursor = page.Items.Count == 0 ? (http.Request.Query["cursor"].ToString() ?? "") : EncodeCursor('e', page.Items[^1].Id),
            remaining = page.HasMore ? 1 : 0,
        }, Wire);
    }

    internal static async Task<IResult> ListAsync(HttpContext http, RefreshAuth auth, IRefreshStore refreshes, CancellationToken ct)
    {
        var caller = auth.Authenticate(http.Request);
        if (!caller.IsAuthenticated)
        {
            return Unauthorised(caller.Problem!);
        }
        if (!TryPaging(http.Request, 'r', out var pageSize, out var before, out var problem))
        {
            return Invalid(problem!);
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
            var (_, refusal) = await FindOwnedCollectionAsync(refreshes, address, caller.Address!, ct).ConfigureAwait(false);
            if (refusal is not null)
            {
                return refusal;
            }
        }
        var page = await refreshes.ListRefreshesAsync(caller.Address!, address, before, pageSize, ct).ConfigureAwait(false);
        return Results.Json(new
        {
            result = page.Items.Select(j => new
            {
                refresh_id = j.RefreshId.ToString("D"),
                status = StatusName(j.Status),
                collection_address = j.CollectionAddress,
                started_at = WireTime(j.StartedAt),
                completed_at = WireTime(j.CompletedAt),
            }),
            cursor = page.Items.Count == 0 ? (http.Request.Query["cursor"].ToString() ?? "") : EncodeCursor('r', page.Items[^1].Seq),
            remaining = page.HasMore ? 1 : 0,
        }, Wire);
    }

    /// <summary>Unknown or malformed id: 404. Someone else's refresh: 403.</summary>
    private static async Task<(RefreshJob? Job, IResult? Refusal)> FindOwnedRefreshAsync(IRefreshStore refreshes, string refreshId, string signer, CancellationToken ct)
    {
        if (!Guid.TryParse(refreshId, out var id))
        {
            return (null, NotFound($"refresh {Shorten(refreshId)} not found"));
        }
        var job = await refreshes.GetRefreshAsync(id, ct).ConfigureAwait(false);
        if (job is null)
        {
            return (null, NotFound($"refresh {id:D} not found"));
        }
        return string.Equals(job.OwnerAddress, signer, StringComparison.OrdinalIgnoreCase) ? (job, null) : (null, Forbidden());
    }

    private static bool TryPaging(HttpRequest request, char kind, out int pageSize, out long? position, out string? problem)
    {
        pageSize = DefaultPageSize;
        position = null;
        problem = null;
        var size = request.Query["page_size"].ToString();
        if (size.Length > 0 && (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > MaxPageSize))
        {
            problem = $"page_size: must be 1..{MaxPageSize}";
            return false;
        }
        var cursor = request.Query["cursor"].ToString();
        if (cursor.Length > 0)
        {
            if (!TryDecodeCursor(cursor, kind, out var value))
            {
                problem = "cursor: not a cursor this endpoint returned";
                return false;
            }
            position = value;
        }
        return true;
    }

    /// <summary>Opaque to clients: base64url of "kind:position" (a refresh seq or an error row id).</summary>
    private static string EncodeCursor(char kind, long position) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"{kind}:{position.ToString(CultureInfo.InvariantCulture)}"));

    private static bool TryDecodeCursor(string cursor, char kind, out long position)
    {
        position = 0;
        if (cursor.Length > 64)
        {
            return false;
        }
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            return false;
        }
        var text = Encoding.ASCII.GetString(bytes);
        return text.Length > 2 && text[0] == kind && text[1] == ':'
            && long.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out position);
    }

    private static string StatusName(RefreshStatus status) => status switch
    {
        RefreshStatus.Queued => "queued",
        RefreshStatus.InProgress => "in_progress",
        _ => "completed",
    };

    private static string? WireTime(DateTimeOffset? value) => value is null ? null : Time.ToWire(value.Value);

    private static string Shorten(string? value) => value is null ? "null" : value.Length > 80 ? value[..80] + "..." : value;
}
