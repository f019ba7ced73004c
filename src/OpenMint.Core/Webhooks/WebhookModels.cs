namespace OpenMint.Core.Webhooks;

/// <summary>The event names an endpoint can subscribe to (docs/api.md, section 4).</summary>
public static class WebhookEvents
{
    public const string MintRequestUpdated = "imtbl_zkevm_mint_request_updated";
    public const string RefreshCompleted = "openmint_metadata_refresh_completed";

    public static readonly IReadOnlyList<string> All = [MintRequestUpdated, RefreshCompleted];
}

public enum WebhookDeliveryStatus
{
    Pending,
    Delivered,
    Failed,
}

/// <summary>A project's webhook endpoint. <paramref name="Events"/> empty: every event.</summary>
/// <param name="Secret">The <c>whsec_</c> secret signing every delivery.</param>
/// <param name="PreviousSecret">The secret before the last rotation, signing beside <paramref name="Secret"/> until <paramref name="PreviousSecretUntil"/>.</param>
public sealed record WebhookEndpoint(
    string Id, string ProjectId, string Url, IReadOnlyList<string> Events, string Secret, string? PreviousSecret, DateTimeOffset? PreviousSecretUntil,
    bool Enabled, string? DisabledReason, DateTimeOffset CreatedAt)
{
    public bool Wants(string eventName) => Events.Count == 0 || Events.Contains(eventName, StringComparer.Ordinal);

    /// <summary>The secrets that sign a delivery sent at <paramref name="now"/>: the current one, and the previous one while it is still valid.</summary>
    public IReadOnlyList<string> SigningSecrets(DateTimeOffset now) =>
        PreviousSecret is not null && PreviousSecretUntil > now ? [Secret, PreviousSecret] : [Secret];
}

/// <summary>One event to deliver to one endpoint (a row of the outbox).</summary>
/// <param name="OrderingKey">Events with the same key reach the endpoint in <paramref name="EventSeq"/> order.</param>
/// <param name="QueuedAt">The start of the retry horizon.</param>
public sealed record WebhookDelivery(
    long Id, string EndpointId, long EventSeq, string EventId, string EventName, string OrderingKey, string Payload, WebhookDeliveryStatus Status,
    int Attempts, DateTimeOffset NextAttemptAt, DateTimeOffset QueuedAt, int? LastStatusCode, string? LastError, DateTimeOffset? DeliveredAt);

/// <summary>A delivery the fan-out queues: the event for one endpoint.</summary>
public sealed record NewWebhookDelivery(string EndpointId, long EventSeq, string EventId, string EventName, string OrderingKey, string Payload);

/// <summary>What one attempt decided for a delivery.</summary>
public abstract record DeliveryOutcome
{
    private DeliveryOutcome()
    {
    }

    /// <summary>2xx.</summary>
    public sealed record Delivered(int StatusCode) : DeliveryOutcome;

    /// <summary>Try again at <paramref name="At"/>.</summary>
    public sealed record Retry(DateTimeOffset At, int? StatusCode, string Error) : DeliveryOutcome;

    /// <summary>Given up; <paramref name="DisableEndpoint"/> on 410 Gone.</summary>
    public sealed record Failed(int? StatusCode, string Error, bool DisableEndpoint) : DeliveryOutcome;
}
