using System.Text.Json;
using System.Text.Json.Nodes;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Minting;

/// <summary>The <c>imtbl_zkevm_mint_request_updated</c> event of API.md, built in one place.</summary>
public static class MintEvents
{
    public const string EventName = "imtbl_zkevm_mint_request_updated";

    public static string Payload(Guid eventId, MintRequestRecord r, Collection collection, ChainConfig chain)
    {
        JsonNode? error = r.ErrorMessage is null ? null : new JsonObject
        {
            ["code"] = r.Status == MintStatus.Failed ? "MINT_FAILED" : null,
            ["message"] = r.ErrorMessage,
        };
        var doc = new JsonObject
        {
            ["event_name"] = EventName,
            ["event_id"] = eventId.ToString(),
            ["chain"] = chain.Name,
            ["data"] = new JsonObject
            {
                ["chain"] = new JsonObject { ["id"] = $"eip155:{chain.ChainId}", ["name"] = chain.Name },
                ["contract_address"] = collection.Address,
                ["owner_address"] = r.OwnerAddress,
                ["reference_id"] = r.ReferenceId,
                ["metadata_id"] = MetadataId(r),
                ["token_id"] = r.TokenId,
                ["status"] = r.Status.ToWire(),
                ["transaction_hash"] = r.TransactionHash,
                ["activity_id"] = r.ActivityId,
                ["error"] = error,
                ["created_at"] = Time.ToWire(r.CreatedAt),
                ["updated_at"] = Time.ToWire(r.UpdatedAt),
                // A uint256 may exceed every .NET number type: emit the decimal digits verbatim as a JSON number.
                ["amount"] = r.Amount is null ? null : JsonNode.Parse(r.Amount),
            },
        };
        return doc.ToJsonString(JsonOptions);
    }

    /// <summary>A stable id for the metadata given at mint: derived from the request row, so retries agree.</summary>
    public static string? MetadataId(MintRequestRecord r) =>
        r.MetadataJson is null ? null : new Guid(System.Security.Cryptography.MD5.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{r.CollectionId}/{r.ReferenceId}/{r.CreatedAt.ToUnixTimeMilliseconds()}"))).ToString();

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };
}
