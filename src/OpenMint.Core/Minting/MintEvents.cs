using System.Text.Json;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Minting;

/// <summary>The <c>imtbl_zkevm_mint_request_updated</c> event of API.md, built in one place.</summary>
public static class MintEvents
{
    public const string EventName = "imtbl_zkevm_mint_request_updated";

    // event_id is the second property, so its value always starts at the same offset of the payload.
    private static readonly int EventIdOffset = $"{{\"event_name\":\"{EventName}\",\"event_id\":\"".Length;

    /// <summary>
    /// The payload of <paramref name="template"/> (built by <see cref="Payload"/> with any event id) carrying
    /// <paramref name="eventId"/> instead: lets intake build payloads on the callers' threads and only stamp
    /// the increasing id on the single writer.
    /// </summary>
    public static string WithEventId(string template, Guid eventId) =>
        string.Concat(template.AsSpan(0, EventIdOffset), eventId.ToString(), template.AsSpan(EventIdOffset + 36));

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
