using OpenMint.Chain;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Minting;

/// <summary>
/// What a contract is, asked of the contract itself (eth_call): ERC721 or ERC1155 by ERC-165 <c>supportsInterface</c>,
/// which Immutable preset, and whether a minter holds MINTER_ROLE. Used by <c>collection add</c>.
/// </summary>
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

    /// <summary>
    /// The preset the contract is, from what it answers: ERC1155 by ERC-165; among ERC721 presets only the by-quantity
    /// ones answer <c>mintBatchByQuantityThreshold()</c>, and of those only V2 answers <c>mintBatchByQuantityNextTokenId()</c>.
    /// Null when it is neither kind.
    /// </summary>
    public static async Task<PresetVariant?> DetectVariantAsync(EthClient eth, string address, CancellationToken ct)
    {
        switch (await DetectAsync(eth, address, ct).ConfigureAwait(false))
        {
            case CollectionKind.Erc1155:
                return PresetVariant.Erc1155;
            case CollectionKind.Erc721:
                if (!await AnswersAsync(eth, address, "mintBatchByQuantityThreshold()", ct).ConfigureAwait(false))
                {
                    return PresetVariant.Erc721MintById;
                }
                return await AnswersAsync(eth, address, "mintBatchByQuantityNextTokenId()", ct).ConfigureAwait(false) ? PresetVariant.Erc721V2 : PresetVariant.Erc721V1;
            default:
                return null;
        }
    }

    /// <summary>bytes32("MINTER_ROLE"), the presets' minter role (a right-padded string, not a hash).</summary>
    public static readonly byte[] MinterRole = [.. "MINTER_ROLE"u8, .. new byte[21]];

    /// <summary><c>hasRole(MINTER_ROLE, minter)</c>; false when the contract does not answer it.</summary>
    public static async Task<bool> HasMinterRoleAsync(EthClient eth, string address, string minter, CancellationToken ct)
    {
        try
        {
            var result = await eth.CallAsync(new CallRequest(null, address, Abi.EncodeCall("hasRole(bytes32,address)", MinterRole, minter)), "latest", ct).ConfigureAwait(false);
            return result.Length >= 32 && result[31] == 1;
        }
        catch (JsonRpcException)
        {
            return false;
        }
    }

    private static async Task<bool> AnswersAsync(EthClient eth, string address, string signature, CancellationToken ct)
    {
        try
        {
            return (await eth.CallAsync(new CallRequest(null, address, Abi.EncodeCall(signature)), "latest", ct).ConfigureAwait(false)).Length >= 32;
        }
        catch (JsonRpcException)
        {
            return false;
        }
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
