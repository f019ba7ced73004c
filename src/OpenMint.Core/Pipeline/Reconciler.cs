using System.Globalization;
using System.Numerics;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// Token ids from a successful receipt, assigned to requests in entry order: each by-quantity
/// <c>Mint{to, quantity}</c> takes the next <c>quantity</c> Transfer logs of the collection;
/// by-id and ERC1155 requests keep their requested ids, which the logs must confirm.
/// </summary>
public static class Reconciler
{
    public static IReadOnlyList<TokenAssignment> Assign(MintMethod method, IReadOnlyList<MintEntry> entries, string contract, IReadOnlyList<MintLog> logs)
    {
        var result = new List<TokenAssignment>();
        switch (method)
        {
            case MintMethod.ByQuantity:
            {
                var mints = MintCalls.Erc721Mints(logs, contract);
                var next = 0;
                foreach (var entry in entries)
                {
                    foreach (var requestId in entry.RequestIds)
                    {
                        if (next >= mints.Count)
                        {
                            throw new InvalidOperationException($"receipt has {mints.Count} Transfer logs of {contract}, the batch minted more");
                        }
                        var (to, id) = mints[next++];
                        if (!string.Equals(to, entry.To, StringComparison.OrdinalIgnoreCase))
                        {
                            throw new InvalidOperationException($"Transfer log {next - 1} goes to {to}, the batch entry to {entry.To}");
                        }
                        result.Add(new TokenAssignment(requestId, id.ToString(CultureInfo.InvariantCulture)));
                    }
                }
                break;
            }
            case MintMethod.ById:
            {
                var minted = MintCalls.Erc721Mints(logs, contract).Select(m => (m.To, m.TokenId)).ToHashSet();
                foreach (var entry in entries)
                {
                    for (var i = 0; i < entry.RequestIds.Count; i++)
                    {
                        var id = BigInteger.Parse(entry.TokenIds![i], CultureInfo.InvariantCulture);
                        if (!minted.Contains((entry.To.ToLowerInvariant(), id)))
                        {
                            throw new InvalidOperationException($"receipt has no Transfer of token {id} to {entry.To}");
                        }
                        result.Add(new TokenAssignment(entry.RequestIds[i], entry.TokenIds[i]));
                    }
                }
                break;
            }
            default:
            {
                var minted = MintCalls.Erc1155Mints(logs, contract).Select(m => (m.To, m.TokenId)).ToHashSet();
                foreach (var entry in entries)
                {
                    for (var i = 0; i < entry.RequestIds.Count; i++)
                    {
                        var id = BigInteger.Parse(entry.TokenIds![i], CultureInfo.InvariantCulture);
                        if (!minted.Contains((entry.To.ToLowerInvariant(), id)))
                        {
                            throw new InvalidOperationException($"receipt has no TransferBatch of token {id} to {entry.To}");
                        }
                        result.Add(new TokenAssignment(entry.RequestIds[i], entry.TokenIds[i]));
                    }
                }
                break;
            }
        }
        return result;
    }
}
