using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>Which preset call a batch uses.</summary>
public enum MintMethod
{
    /// <summary><c>mintBatchByQuantity((address,uint256)[])</c>: ERC721 without requested ids.</summary>
    ByQuantity,
    /// <summary><c>mintBatch((address,uint256[])[])</c>: ERC721 with requested ids.</summary>
    ById,
    /// <summary><c>safeMintBatch(address,uint256[],uint256[],bytes)</c>: ERC1155, one owner per call.</summary>
    Erc1155,
}

/// <summary>One request as the planner sees it.</summary>
public sealed record QueuedMint(long RequestId, string Owner, BigInteger? TokenId, BigInteger Amount);

/// <summary>
/// One entry of a call: for <see cref="MintMethod.ByQuantity"/> a <c>Mint{to, quantity}</c> whose
/// quantity is the number of requests; for by-id a <c>IDMint{to, tokenIds}</c>; for ERC1155 the
/// single owner with ids and amounts. Requests are in token order.
/// </summary>
public sealed record MintEntry(
    [property: JsonPropertyName("to")] string To,
    [property: JsonPropertyName("requests")] IReadOnlyList<long> RequestIds,
    [property: JsonPropertyName("token_ids")] IReadOnlyList<string>? TokenIds,
    [property: JsonPropertyName("amounts")] IReadOnlyList<string>? Amounts)
{
    [JsonIgnore]
    public int Quantity => RequestIds.Count;
}

/// <summary>A planned contract call: what one transaction mints.</summary>
public sealed record MintBatch(long CollectionId, string Contract, MintMethod Method, IReadOnlyList<MintEntry> Entries, long EstimatedGas)
{
    public IEnumerable<long> RequestIds => Entries.SelectMany(e => e.RequestIds);

    public int RequestCount => Entries.Sum(e => e.RequestIds.Count);

    public byte[] Calldata() => MintCalls.Encode(Method, Entries);

    public string EntriesJson() => JsonSerializer.Serialize(Entries);

    public static IReadOnlyList<MintEntry> ParseEntries(string json) =>
        JsonSerializer.Deserialize<List<MintEntry>>(json) ?? [];

    public static MintMethod MethodFor(Collection collection, bool byQuantity) =>
        collection.Kind == CollectionKind.Erc1155 ? MintMethod.Erc1155 : byQuantity ? MintMethod.ByQuantity : MintMethod.ById;
}
