namespace OpenMint.Core.Webhooks;

/// <summary>The webhook area of the store: endpoints, the delivery outbox and the fan-out cursor over the mint event log.</summary>
public interface IWebhookStore
{
    Task AddEndpointAsync(WebhookEndpoint endpoint, CancellationToken ct);

    Task<WebhookEndpoint?> GetEndpointAsync(string id, CancellationToken ct);

    /// <summary>Every endpoint (of <paramref name="projectId"/> when given), oldest first.</summary>
    Task<IReadOnlyList<WebhookEndpoint>> ListEndpointsAsync(string? projectId, CancellationToken ct);

    /// <summary>Removes the endpoint and its deliveries; false when there was none.</summary>
    Task<bool> RemoveEndpointAsync(string id, CancellationToken ct);

    /// <summary>false when there is no such endpoint.</summary>
    Task<bool> SetEnabledAsync(string id, bool enabled, string? reason, DateTimeOffset now, CancellationToken ct);

    /// <summary>Makes <paramref name="newSecret"/> current; the old one keeps signing until <paramref name="previousUntil"/>. false when there is no such endpoint.</summary>
    Task<bool> RotateSecretAsync(string id, string newSecret, DateTimeOffset previousUntil, DateTimeOffset now, CancellationToken ct);

    /// <summary>The endpoint's deliveries, newest first.</summary>
    Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string endpointId, WebhookDeliveryStatus? status, int limit, CancellationToken ct);

    /// <summary>Re-queues the endpoint's failed deliveries (queued at or after <paramref name="since"/> when given); returns how many.</summary>
    Task<int> RedriveAsync(string endpointId, DateTimeOffset? since, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// The sequence number up to which every mint event has its deliveries queued (a committed prefix of the log; the catch-up
    /// feed's high-water mark). Where <see cref="PositionFollowsLogWithoutEndpoints"/>, while no endpoint is enabled it is the
    /// end of the committed log.
    /// </summary>
    Task<long> GetFanOutPositionAsync(CancellationToken ct);

    /// <summary>
    /// True when the position needs no fan-out while no endpoint is enabled (SQLite: the committed log never gets a gap filled
    /// later, so it is read as the log's end, and adding or enabling the first endpoint stores that end first): the worker then
    /// writes nothing. False on PostgreSQL, where the workers keep moving the stored position.
    /// </summary>
    bool PositionFollowsLogWithoutEndpoints { get; }

    /// <summary>
    /// Queues <paramref name="deliveries"/> and moves the fan-out position from <paramref name="from"/> to <paramref name="to"/>
    /// in one transaction; false (nothing written) when another instance moved it first.
    /// </summary>
    Task<bool> FanOutAsync(long from, long to, IReadOnlyList<NewWebhookDelivery> deliveries, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Returns once every transaction that was writing to the mint event log when it was called has ended, so a sequence
    /// number missing below one seen before the call will never appear (PostgreSQL; on SQLite readers never see such gaps).
    /// </summary>
    Task WaitForEventWritersAsync(CancellationToken ct);

    /// <summary>
    /// Leases up to <paramref name="limit"/> due deliveries of the endpoint until <paramref name="leaseUntil"/>, oldest first, skipping
    /// any with an earlier pending delivery of the same ordering key; counts the attempt.
    /// </summary>
    Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(string endpointId, int limit, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct);

    /// <summary>Runs one round of the delivery worker (<see cref="WebhookRound"/>) in one transaction.</summary>
    Task<WebhookRoundResult> RunRoundAsync(WebhookRound round, CancellationToken ct);

    /// <summary>Records attempts' outcomes in one transaction and ends their leases (a 410 also disables the endpoint).</summary>
    Task RecordOutcomesAsync(IReadOnlyList<(WebhookDelivery Delivery, DeliveryOutcome Outcome)> outcomes, DateTimeOffset now, CancellationToken ct);
}
