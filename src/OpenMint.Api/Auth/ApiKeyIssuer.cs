using System.Security.Cryptography;
using OpenMint.Core;
using OpenMint.Core.Tenancy;

namespace OpenMint.Api.Auth;

/// <summary>A new API key: the secret is returned once and only its hash is stored.</summary>
public sealed record IssuedApiKey(ApiKey Key, string Secret);

public static class ApiKeyIssuer
{
    public const string SecretPrefix = "sk_om_";

    /// <summary>Creates a key for <paramref name="projectId"/>: 32 random bytes, base64url, behind a recognisable prefix.</summary>
    public static async Task<IssuedApiKey> IssueAsync(ITenancyStore store, string projectId, TimeProvider time, CancellationToken ct)
    {
        var secret = SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var key = new ApiKey(UuidV7.New(time).ToString(), projectId, secret[..ApiKeySecrets.PrefixLength], time.GetUtcNow(), null);
        await store.CreateApiKeyAsync(key, ApiKeySecrets.Hash(secret), ct).ConfigureAwait(false);
        return new IssuedApiKey(key, secret);
    }
}
