using Dapper;
using OpenMint.Core.Webhooks;

namespace OpenMint.Storage.Webhooks;

/// <summary>The sending side: leases on due deliveries and the outcomes of attempts.</summary>
internal sealed partial class WebhookStore
{
    public async Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(string endpointId, int limit, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct) =>
        await db.InTransactionAsync(async (c, tx) =>
        {
            // The outer lease check is re-evaluated on PostgreSQL against a row another instance just leased, so two
            // instances never lease the same delivery; SKIP LOCKED lets them take different ones without waiting.
            var rows = await c.QueryAsync<DeliveryRow>(new CommandDefinition(
                $"""
                UPDATE webhook_delivery SET lease_until = @leaseUntil, attempts = attempts + 1
                WHERE id IN (
                    SELECT d.id FROM webhook_delivery d
                    WHERE d.endpoint_id = @endpointId AND d.status = 'pending' AND d.next_attempt_at <= @now
                      AND (d.lease_until IS NULL OR d.lease_until < @now)
                      AND EXISTS (SELECT 1 FROM webhook_endpoint w WHERE w.id = d.endpoint_id AND w.enabled = 1)
                      AND NOT EXISTS (SELECT 1 FROM webhook_delivery e
                                      WHERE e.endpoint_id = d.endpoint_id AND e.ordering_key = d.ordering_key
                                        AND e.event_seq < d.event_seq AND e.status = 'pending')
                    ORDER BY d.event_seq LIMIT @limit{db.Dialect.SkipLocked("d")})
                  AND status = 'pending' AND (lease_until IS NULL OR lease_until < @now)
                RETURNING {DeliveryColumns}
                """,
                new { endpointId, limit, now = now.ToUnixTimeMilliseconds(), leaseUntil = leaseUntil.ToUnixTimeMilliseconds() }, tx, cancellationToken: ct)).ConfigureAwait(false);
            return (IReadOnlyList<WebhookDelivery>)rows.Select(r => r.ToModel()).OrderBy(d => d.EventSeq).ToList();
        }, ct).ConfigureAwait(false);

    public Task RecordOutcomesAsync(IReadOnlyList<(WebhookDelivery Delivery, DeliveryOutcome Outcome)> outcomes, DateTimeOffset now, CancellationToken ct) =>
        db.InTransactionAsync(async (c, tx) =>
        {
            var ms = now.ToUnixTimeMilliseconds();
            foreach (var (delivery, outcome) in outcomes)
            {
                var (sql, args) = outcome switch
                {
                    DeliveryOutcome.Delivered d => (
                        "UPDATE webhook_delivery SET status = 'delivered', delivered_at = @ms, last_status_code = @code, last_error = NULL, lease_until = NULL WHERE id = @id",
                        (object)new { id = delivery.Id, ms, code = d.StatusCode }),
                    DeliveryOutcome.Retry r => (
                        "UPDATE webhook_delivery SET next_attempt_at = @at, last_status_code = @code, last_error = @error, lease_until = NULL WHERE id = @id AND status = 'pending'",
                        new { id = delivery.Id, at = r.At.ToUnixTimeMilliseconds(), code = r.StatusCode, error = r.Error }),
                    DeliveryOutcome.Failed f => (
                        "UPDATE webhook_delivery SET status = 'failed', last_status_code = @code, last_error = @error, lease_until = NULL WHERE id = @id AND status = 'pending'",
                        new { id = delivery.Id, code = f.StatusCode, error = f.Error }),
                    _ => throw new ArgumentOutOfRangeException(nameof(outcomes)),
                };
                await c.ExecuteAsync(new CommandDefinition(sql, args, tx, cancellationToken: ct)).ConfigureAwait(false);
                if (outcome is DeliveryOutcome.Failed { DisableEndpoint: true } gone)
                {
                    await c.ExecuteAsync(new CommandDefinition(
                        "UPDATE webhook_endpoint SET enabled = 0, disabled_reason = @error, updated_at = @ms WHERE id = @endpointId",
                        new { endpointId = delivery.EndpointId, error = gone.Error, ms }, tx, cancellationToken: ct)).ConfigureAwait(false);
                }
            }
        }, ct);
}
