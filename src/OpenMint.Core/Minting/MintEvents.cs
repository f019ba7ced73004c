using System.Text.Json;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Minting;

/// <summary>The <c>imtbl_zkevm_mint_request_updated</c> event of docs/api.md (section 4), built in one place.</summary>
public static class MintEvents
{
    public const string EventName = "imtbl_zkevm_mint_request_updated";

    /// <summary>
    /// The request as it was when it was accepted, from a row read at any later time: every field of a creation
    /// event's payload is a constant or a column that never changes after intake (a by-quantity request's token_id
    /// is filled in when it is minted; it had none at creation). The event log stores no payload for creation
    /// events and rebuilds it with <c>Payload(eventId, AsCreated(row), ...)</c>.
    /// </summary>
    public static MintRequestRecord AsCreated(MintRequestRecord r) => r with
    {
        TokenId = r.ByQuantity ? null : r.TokenId,
        Status = MintStatus.Pending,
        ErrorMessage = null,
        TransactionHash = null,
        ActivityId = null,
        BatchId = null,
        UpdatedAt = r.CreatedAt,
    };

    public static string Payload(Guid eventId, MintRequestRecord r, Collection collection, ChainConfig chain)
    {
        // Written with Utf8JsonWriter rather than a JsonObject tree: intake appends one event per accepted asset.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(768);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("event_name", EventName);
            w.WriteString("event_id", eventId.ToString());
            w.WriteString("chain", chain.Name);
            w.WriteStartObject("data");
            chain.WriteJson(w);
            w.WriteString("contract_address", collection.Address);
            w.WriteString("owner_address", r.OwnerAddress);
            w.WriteString("reference_id", r.ReferenceId);
            w.WriteString("metadata_id", MetadataId(r));
            w.WriteString("token_id", r.TokenId);
            w.WriteString("status", r.Status.ToWire());
            w.WriteString("transaction_hash", r.TransactionHash);
            w.WriteString("activity_id", r.ActivityId);
            if (r.ErrorMessage is null)
            {
                w.WriteNull("error");
            }
            else
            {
                w.WriteStartObject("error");
                w.WriteString("code", r.Status == MintStatus.Failed ? "MINT_FAILED" : null);
                w.WriteString("message", r.ErrorMessage);
                w.WriteEndObject();
            }
            w.WriteString("created_at", Time.ToWire(r.CreatedAt));
            w.WriteString("updated_at", Time.ToWire(r.UpdatedAt));
            if (r.Amount is null)
            {
                w.WriteNull("amount");
            }
            else
            {
                // A uint256 may exceed every .NET number type: emit the decimal digits verbatim as a JSON number.
                w.WritePropertyName("amount");
                w.WriteRawValue(r.Amount, skipInputValidation: false);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A stable id for the metadata given at mint: derived from the request row, so retries agree.</summary>
    public static string? MetadataId(MintRequestRecord r) =>
        r.MetadataJson is null ? null : new Guid(System.Security.Cryptography.MD5.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{r.CollectionId}/{r.ReferenceId}/{r.CreatedAt.ToUnixTimeMilliseconds()}"))).ToString();
}

/// <summary>One row of the mint event log, with its <c>imtbl_zkevm_mint_request_updated</c> payload.</summary>
/// <param name="Seq">Delivery order.</param>
/// <param name="Status">The status the event records.</param>
public sealed record MintEventRecord(long Seq, Guid EventId, string ProjectId, long MintRequestId, MintStatus Status, string Payload, DateTimeOffset CreatedAt);
