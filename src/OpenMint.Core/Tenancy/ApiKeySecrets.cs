using System.Security.Cryptography;
using System.Text;

namespace OpenMint.Core.Tenancy;

/// <summary>How an API key's secret is kept: a clear prefix narrows the lookup, only the SHA-256 of the secret is stored.</summary>
public static class ApiKeySecrets
{
    /// <summary>Characters of the secret stored in clear to narrow the hash lookup.</summary>
    public const int PrefixLength = 12;

    /// <summary>SHA-256 of the secret: what the store keeps.</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>The clear prefix of <paramref name="secret"/>; null when it is too short to be a key.</summary>
    public static string? Prefix(string secret) => secret.Length < PrefixLength ? null : secret[..PrefixLength];
}
