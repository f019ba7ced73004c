using System.Globalization;
using System.Numerics;

namespace OpenMint.Core.Refresh;

/// <summary>Token ids of a refresh (canonical decimal uint256, parsed by <see cref="OpenMint.Chain.Uint256"/>) as metadata URLs.</summary>
public static class TokenIds
{
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

    /// <summary>
    /// The origin a URL's requests share (lower-case scheme, host and port): the unit of the fetcher's per-origin queues
    /// and limits. A URL that is not absolute http(s) has the origin "" (the fetcher refuses it at once).
    /// </summary>
    public static string Origin(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? string.Create(CultureInfo.InvariantCulture, $"{uri.Scheme}://{uri.IdnHost.ToLowerInvariant()}:{uri.Port}")
            : "";
}
