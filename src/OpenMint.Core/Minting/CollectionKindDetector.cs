using OpenMint.Chain;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Minting;

/// <summary>Tells ERC721 from ERC1155 with ERC-165 <c>supportsInterface</c> (eth_call), for <c>collection add</c> without <c>--kind</c>.</summary>
public static class CollectionKindDetector
{
    public const string Erc721InterfaceId = "80ac58cd";
    public const string Erc1155InterfaceId = "d9b67a26";
    private const string SupportsInterfaceSelector = "01ffc9a7"; // supportsInterface(bytes4)

    /// <summary>The kind the contract declares, or null when it declares neither (or is no ERC-165 contract).</summary>
    public static async Task<CollectionKind?> DetectAsync(EthClient eth, string address, CancellationToken ct)
    {
        if (await SupportsAsync(eth, address, Erc721InterfaceId, ct).ConfigureAwait(false))
        {
            return CollectionKind.Erc721;
        }
        if (await SupportsAsync(eth, address, Erc1155InterfaceId, ct).ConfigureAwait(false))
        {
            return CollectionKind.Erc1155;
        }
        return null;
    }

    private static async Task<bool> SupportsAsync(EthClient eth, string address, string interfaceId, CancellationToken ct)
    {
        var data = Hex.Decode(SupportsInterfaceSelector + interfaceId + new string('0', 56));
        byte[] result;
        try
        {
            result = await eth.CallAsync(new CallRequest(null, address, data), "latest", ct).ConfigureAwait(false);
        }
        catch (JsonRpcException)
        {
            return false; // reverted: not an ERC-165 contract
        }
        return result.Length >= 32 && result[31] == 1 && result.AsSpan(0, 31).IndexOfAnyExcept((byte)0) < 0;
    }
}
