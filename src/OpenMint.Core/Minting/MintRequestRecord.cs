using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Minting;

public enum MintStatus { Pending, Succeeded, Failed }

public static class MintStatusNames
{
    public static string ToWire(this MintStatus status) => status switch
    {
        MintStatus.Pending => "pending",
        MintStatus.Succeeded => "succeeded",
        _ => "failed",
    };

    public static MintStatus Parse(string value) => value switch
    {
        "pending" => MintStatus.Pending,
        "succeeded" => MintStatus.Succeeded,
        "failed" => MintStatus.Failed,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "unknown mint status"),
    };
}

/// <summary>One asset of a mint request, as stored (table mint_request).</summary>
/// <param name="TokenId">Requested id (by id / ERC1155) or the id read from the receipt (by quantity).</param>
/// <param name="ByQuantity">ERC721 without a requested token id: minted with mintBatchByQuantity.</param>
/// <param name="MetadataJson">The metadata object given at mint, serialized, or null.</param>
/// <param name="BatchId">The pipeline batch this asset is planned into, while pending.</param>
public sealed record MintRequestRecord(
    long Id,
    long CollectionId,
    string ProjectId,
    string ReferenceId,
    string OwnerAddress,
    string? TokenId,
    bool ByQuantity,
    string? Amount,
    string? MetadataJson,
    MintStatus Status,
    string? ErrorMessage,
    string? TransactionHash,
    string? ActivityId,
    long? BatchId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
