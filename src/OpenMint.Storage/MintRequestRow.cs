using OpenMint.Core;
using OpenMint.Core.Minting;

namespace OpenMint.Storage;

/// <summary>A mint_request row as Dapper reads it; intake reads and the pipeline share it.</summary>
internal sealed class MintRequestRow
{
    public const string Columns =
        "id AS Id, collection_id AS CollectionId, project_id AS ProjectId, reference_id AS ReferenceId, owner_address AS OwnerAddress, " +
        "token_id AS TokenId, by_quantity AS ByQuantity, amount AS Amount, metadata AS MetadataJson, status AS Status, " +
        "error_message AS ErrorMessage, transaction_hash AS TransactionHash, activity_id AS ActivityId, batch_id AS BatchId, " +
        "created_at AS CreatedAt, updated_at AS UpdatedAt";

    public long Id { get; set; }
    public long CollectionId { get; set; }
    public string ProjectId { get; set; } = "";
    public string ReferenceId { get; set; } = "";
    public string OwnerAddress { get; set; } = "";
    public string? TokenId { get; set; }
    public bool ByQuantity { get; set; }
    public string? Amount { get; set; }
    public string? MetadataJson { get; set; }
    public string Status { get; set; } = "";
    public string? ErrorMessage { get; set; }
    public string? TransactionHash { get; set; }
    public string? ActivityId { get; set; }
    public long? BatchId { get; set; }
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";

    public MintRequestRecord ToModel() => new(Id, CollectionId, ProjectId, ReferenceId, OwnerAddress, TokenId, ByQuantity, Amount, MetadataJson,
        MintStatusNames.Parse(Status), ErrorMessage, TransactionHash, ActivityId, BatchId, Time.FromWire(CreatedAt), Time.FromWire(UpdatedAt));
}
