using System.Globalization;
using System.Numerics;

namespace OpenMint.Core.Refresh;

/// <summary>Token ids as the refresh API takes them and the token table keys them: canonical decimal uint256.</summary>
public static class TokenIds
{
    private static readonly BigInteger MaxUint256 = (BigInteger.One << 256) - 1;

    /// <summary>Digits only, at most uint256; <paramref name="canonical"/> drops leading zeros.</summary>
    public static bool TryCanonical(string? value, out string canonical)
    {
        canonical = "";
        if (string.IsNullOrEmpty(value) || value.Length > 78 || !value.All(char.IsAsciiDigit))
        {
            return false;
        }
        var n = BigInteger.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
        if (n > MaxUint256)
        {
            return false;
        }
        canonical = n.ToString(CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>
    /// The token's metadata URL: an ERC1155-style <c>{id}</c> in the base is replaced by the id as 64 lower-case
    /// hex digits (EIP-1155); otherwise the decimal id is appended.
    /// </summary>
    public static string MetadataUrl(string baseUri, string tokenId)
    {
        if (baseUri.Contains("{id}", StringComparison.Ordinal))
        {
            var hex = BigInteger.Parse(tokenId, NumberStyles.None, CultureInfo.InvariantCulture).ToString("x64", CultureInfo.InvariantCulture);
            return baseUri.Replace("{id}", hex[^64..], StringComparison.Ordinal);
        }
        return baseUri + tokenId;
    }
}
