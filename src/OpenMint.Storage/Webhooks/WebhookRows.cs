using OpenMint.Core.Webhooks;

namespace OpenMint.Storage.Webhooks;

internal sealed class EndpointRow
{
    public string Id { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string Url { get; set; } = "";
    public string? Events { get; set; }
    public string Secret { get; set; } = "";
    public string? PreviousSecret { get; set; }
    public long? PreviousSecretUntil { get; set; }
    public long Enabled { get; set; }
    public string? DisabledReason { get; set; }
    public long CreatedAt { get; set; }

    public WebhookEndpoint ToModel() => new(
        Id, ProjectId, Url, Events is null ? [] : Events.Split(',', StringSplitOptions.RemoveEmptyEntries), Secret, PreviousSecret,
        PreviousSecretUntil is { } u ? DateTimeOffset.FromUnixTimeMilliseconds(u) : null, Enabled != 0, DisabledReason,
        DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt));
}

internal sealed class DeliveryRow
{
    public long Id { get; set; }
    public string EndpointId { get; set; } = "";
    public long EventSeq { get; set; }
    public string EventId { get; set; } = "";
    public string EventName { get; set; } = "";
    public string OrderingKey { get; set; } = "";
    public string Payload { get; set; } = "";
    public string Status { get; set; } = "";
    public long Attempts { get; set; }
    public long NextAttemptAt { get; set; }
    public long QueuedAt { get; set; }
    public long? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public long? DeliveredAt { get; set; }

    public WebhookDelivery ToModel() => new(
        Id, EndpointId, EventSeq, EventId, EventName, OrderingKey, Payload, WebhookStore.ParseStatus(Status), (int)Attempts,
        DateTimeOffset.FromUnixTimeMilliseconds(NextAttemptAt), DateTimeOffset.FromUnixTimeMilliseconds(QueuedAt), (int?)LastStatusCode, LastError,
        DeliveredAt is { } d ? DateTimeOffset.FromUnixTimeMilliseconds(d) : null);
}
