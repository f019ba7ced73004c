using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using OpenMint.Core.Tenancy;

namespace OpenMint.Api.Auth;

/// <summary>
/// Resolves <c>x-immutable-api-key</c> to its key (hash lookup, constant-time compare in the store).
/// Hits are remembered for a few seconds so intake under load does not hash and query per request;
/// a revoked key therefore stops working within <see cref="CacheFor"/>. Misses are never cached.
/// </summary>
internal sealed class ApiKeyAuthenticator(ITenancyStore tenancy, TimeProvider time)
{
    public const string HeaderName = "x-immutable-api-key";
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private const int MaxCached = 10_000;

    /// <summary>Why a request has no key at all (for the 401's <c>details</c>), or null when it sent one.</summary>
    public static string? MissingKeyProblem(HttpRequest request) =>
        request.Headers[HeaderName].ToString().Length == 0 ? HeaderName + " header is missing" : null;

    private readonly ConcurrentDictionary<string, (ApiKey Key, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    public ValueTask<ApiKey?> AuthenticateAsync(HttpRequest request, CancellationToken ct)
    {
        // Not trimmed: HTTP already strips spaces and tabs around a field value, so anything else around the
        // key (VT, FF, U+00A0, U+3000) arrived from the client and makes it a different string, not the key.
        var secret = request.Headers[HeaderName].ToString();
        if (secret.Length == 0)
        {
            return ValueTask.FromResult<ApiKey?>(null);
        }
        // A hit completes synchronously, without a task: this runs on every request.
        return _cache.TryGetValue(secret, out var hit) && hit.Until > time.GetUtcNow()
            ? ValueTask.FromResult<ApiKey?>(hit.Key)
            : LookUpAsync(secret, ct);
    }

    private async ValueTask<ApiKey?> LookUpAsync(string secret, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var key = await tenancy.FindApiKeyAsync(secret, ct).ConfigureAwait(false);
        if (key is null)
        {
            _cache.TryRemove(secret, out _);
            return null;
        }
        if (_cache.Count >= MaxCached)
        {
            _cache.Clear();
        }
        _cache[secret] = (key, now + CacheFor);
        return key;
    }
}
