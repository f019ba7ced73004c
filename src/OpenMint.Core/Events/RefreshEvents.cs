using System.Text.Json;
using OpenMint.Core.Webhooks;

namespace OpenMint.Core.Events;

/// <summary>The <c>openmint_metadata_refresh_completed</c> event of docs/api.md (section 4), built in one place.</summary>
public static class RefreshEvents
{
    /// <param name="completedAt">The refresh's <c>completed_at</c> as the refresh API shows it.</param>
    public static string Payload(Guid eventId, string chain, Guid refreshId, string collectionAddress, long succeeded, long failed, long pending, string completedAt)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(384);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("event_name", WebhookEvents.RefreshCompleted);
            w.WriteString("event_id", eventId.ToString());
            w.WriteString("chain", chain);
            w.WriteStartObject("data");
            w.WriteString("refresh_id", refreshId.ToString("D"));
            w.WriteString("collection_address", collectionAddress);
            w.WriteStartObject("summary");
            w.WriteNumber("succeeded", succeeded);
            w.WriteNumber("failed", failed);
            w.WriteNumber("pending", pending);
            w.WriteEndObject();
            w.WriteString("completed_at", completedAt);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
