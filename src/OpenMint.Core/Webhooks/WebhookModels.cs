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

    /// <summary>Not sent: the lease is handed back (the endpoint was disabled, the worker is stopping, or the lease was running out) and the attempt not counted.</summary>
    public sealed record Released : DeliveryOutcome;
}

/// <summary>The fan-out's part of a round: queue <paramref name="Deliveries"/> and move the position from <paramref name="From"/> to <paramref name="To"/>.</summary>
public sealed record WebhookFanOutStep(long From, long To, IReadOnlyList<NewWebhookDelivery> Deliveries);

/// <summary>Lease up to <paramref name="Limit"/> due deliveries of the endpoint.</summary>
public sealed record WebhookClaim(string EndpointId, int Limit);

/// <summary>
/// One store transaction of the delivery worker: record the attempts' outcomes, then fan out (when the position is still
/// <see cref="WebhookFanOutStep.From"/>), then lease due deliveries until <paramref name="LeaseUntil"/> (so a delivery freed
/// by an outcome or queued by the fan-out of this very round can be leased in it).
/// </summary>
public sealed record WebhookRound(
    IReadOnlyList<(WebhookDelivery Delivery, DeliveryOutcome Outcome)> Outcomes, WebhookFanOutStep? FanOut, IReadOnlyList<WebhookClaim> Claims,
    DateTimeOffset Now, DateTimeOffset LeaseUntil);

/// <summary>What a claim leased; <paramref name="NextDueAt"/>: the earliest later <c>next_attempt_at</c> of the endpoint's other pending deliveries.</summary>
public sealed record WebhookClaimed(string EndpointId, IReadOnlyList<WebhookDelivery> Deliveries, DateTimeOffset? NextDueAt);

/// <summary><paramref name="FannedOut"/>: false when another instance moved the position first (nothing was queued).</summary>
public sealed record WebhookRoundResult(bool FannedOut, IReadOnlyList<WebhookClaimed> Claims);
