using System.Globalization;
using System.Numerics;
using OpenMint.Chain;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// Token ids from a successful receipt, decoded by the Chain layer's <see cref="Erc721Events"/> /
/// <see cref="Erc1155Events"/> and assigned to requests in entry order: each by-quantity <c>Mint{to, quantity}</c>
/// takes the next <c>quantity</c> Transfer logs of the collection; by-id and ERC1155 requests keep their requested
/// ids, which the logs must confirm.
/// </summary>
public static class Reconciler
{
    public static IReadOnlyList<TokenAssignment> Assign(MintMethod method, IReadOnlyList<MintEntry> entries, string contract, IReadOnlyList<LogEntry> logs)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var minted = method == MintMethod.Erc1155 ? Erc1155Events.Mints(logs, contract) : Erc721Events.Mints(logs, contract);
        return method == MintMethod.ByQuantity
            ? InMintOrder(entries, contract, minted)
            : Requested(entries, minted, method == MintMethod.Erc1155 ? "TransferBatch" : "Transfer");
    }

    /// <summary>By quantity: the contract chose the ids; the logs give them in entry order.</summary>
    private static List<TokenAssignment> InMintOrder(IReadOnlyList<MintEntry> entries, string contract, IReadOnlyList<MintedToken> minted)
    {
        var result = new List<TokenAssignment>();
        var next = 0;
        foreach (var entry in entries)
        {
            foreach (var requestId in entry.RequestIds)
            {
                if (next >= minted.Count)
                {
                    throw new InvalidOperationException($"receipt has {minted.Count} Transfer logs of {contract}, the batch minted more");
                }
                var token = minted[next++];
                if (!string.Equals(token.To, entry.To, StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"Transfer log {next - 1} goes to {token.To}, the batch entry to {entry.To}");
                }
                result.Add(new TokenAssignment(requestId, token.TokenId.ToString(CultureInfo.InvariantCulture)));
            }
        }
        return result;
    }

    /// <summary>By id and ERC1155: the requested ids stand, each confirmed by a log minting it to the entry's owner.</summary>
    private static List<TokenAssignment> Requested(IReadOnlyList<MintEntry> entries, IReadOnlyList<MintedToken> minted, string eventName)
    {
        var confirmed = minted.Select(m => (m.To, m.TokenId)).ToHashSet();
        var result = new List<TokenAssignment>();
        foreach (var entry in entries)
        {
            for (var i = 0; i < entry.RequestIds.Count; i++)
            {
                var id = BigInteger.Parse(entry.TokenIds![i], CultureInfo.InvariantCulture);
                if (!confirmed.Contains((entry.To.ToLowerInvariant(), id)))
                {
                    throw new InvalidOperationException($"receipt has no {eventName} of token {id} to {entry.To}");
                }
                result.Add(new TokenAssignment(entry.RequestIds[i], entry.TokenIds[i]));
            }
        }
        return result;
    }
}
