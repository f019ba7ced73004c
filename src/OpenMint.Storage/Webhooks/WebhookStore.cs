using System.Data.Common;
using Dapper;
using OpenMint.Core.Webhooks;

namespace OpenMint.Storage.Webhooks;

/// <summary>The webhook area (IWebhookStore): endpoints, the delivery outbox, the fan-out position. Instants are unix milliseconds.</summary>
internal sealed partial class WebhookStore(Database db) : IWebhookStore
{
    private const string EndpointColumns =
        "id AS Id, project_id AS ProjectId, url AS Url, events AS Events, secret AS Secret, previous_secret AS PreviousSecret, "
        + "previous_secret_until AS PreviousSecretUntil, enabled AS Enabled, disabled_reason AS DisabledReason, created_at AS CreatedAt";

    private const string DeliveryColumns =
        "id AS Id, endpoint_id AS EndpointId, event_seq AS EventSeq, event_id AS EventId, event_name AS EventName, ordering_key AS OrderingKey, "
        + "payload AS Payload, status AS Status, attempts AS Attempts, next_attempt_at AS NextAttemptAt, queued_at AS QueuedAt, "
        + "last_status_code AS LastStatusCode, last_error AS LastError, delivered_at AS DeliveredAt";

    public async Task AddEndpointAsync(WebhookEndpoint endpoint, CancellationToken ct) =>
        await db.InTransactionAsync(async (c, tx) =>
        {
            if (endpoint.Enabled)
            {
                await CatchUpIdlePositionAsync(c, tx, ct).ConfigureAwait(false);
            }
            await c.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO webhook_endpoint (id, project_id, url, events, secret, previous_secret, previous_secret_until, enabled, disabled_reason, created_at, updated_at)
                VALUES (@Id, @ProjectId, @Url, @events, @Secret, NULL, NULL, @enabled, NULL, @created, @created)
                """,
                new
                {
                    endpoint.Id, endpoint.ProjectId, endpoint.Url, endpoint.Secret,
                    events = endpoint.Events.Count == 0 ? null : string.Join(',', endpoint.Events),
                    enabled = endpoint.Enabled ? 1 : 0,
                    created = endpoint.CreatedAt.ToUnixTimeMilliseconds(),
                }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);

    public async Task<WebhookEndpoint?> GetEndpointAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<EndpointRow>(new CommandDefinition(
            $"SELECT {EndpointColumns} FROM webhook_endpoint WHERE id = @id", new { id }, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToModel();
    }

    public async Task<IReadOnlyList<WebhookEndpoint>> ListEndpointsAsync(string? projectId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<EndpointRow>(new CommandDefinition(
            $"SELECT {EndpointColumns} FROM webhook_endpoint WHERE (@projectId IS NULL OR project_id = @projectId) ORDER BY created_at, id",
            new { projectId }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).ToList();
    }

    public async Task<bool> RemoveEndpointAsync(string id, CancellationToken ct) =>
        await db.InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(new CommandDefinition("DELETE FROM webhook_delivery WHERE endpoint_id = @id", new { id }, tx, cancellationToken: ct)).ConfigureAwait(false);
            return await c.ExecuteAsync(new CommandDefinition("DELETE FROM webhook_endpoint WHERE id = @id", new { id }, tx, cancellationToken: ct)).ConfigureAwait(false) > 0;
        }, ct).ConfigureAwait(false);

    public async Task<bool> SetEnabledAsync(string id, bool enabled, string? reason, DateTimeOffset now, CancellationToken ct) =>
        await db.InTransactionAsync(async (c, tx) =>
        {
            if (enabled)
            {
                await CatchUpIdlePositionAsync(c, tx, ct).ConfigureAwait(false);
            }
            return await c.ExecuteAsync(new CommandDefinition(
                "UPDATE webhook_endpoint SET enabled = @enabled, disabled_reason = @reason, updated_at = @now WHERE id = @id",
                new { id, enabled = enabled ? 1 : 0, reason = enabled ? null : reason, now = now.ToUnixTimeMilliseconds() }, tx, cancellationToken: ct)).ConfigureAwait(false) > 0;
        }, ct).ConfigureAwait(false);

    public async Task<bool> RotateSecretAsync(string id, string newSecret, DateTimeOffset previousUntil, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE webhook_endpoint SET previous_secret = secret, previous_secret_until = @until, secret = @newSecret, updated_at = @now
            WHERE id = @id
            """,
            new { id, newSecret, until = previousUntil.ToUnixTimeMilliseconds(), now = now.ToUnixTimeMilliseconds() }, cancellationToken: ct)).ConfigureAwait(false) > 0;
    }

    public async Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string endpointId, WebhookDeliveryStatus? status, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<DeliveryRow>(new CommandDefinition(
            $"SELECT {DeliveryColumns} FROM webhook_delivery WHERE endpoint_id = @endpointId AND (@status IS NULL OR status = @status) ORDER BY event_seq DESC LIMIT @limit",
            new { endpointId, status = status is { } s ? StatusName(s) : null, limit }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).ToList();
    }

    public async Task<int> RedriveAsync(string endpointId, DateTimeOffset? since, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE webhook_delivery SET status = 'pending', attempts = 0, next_attempt_at = @now, queued_at = @now, lease_until = NULL
            WHERE endpoint_id = @endpointId AND status = 'failed' AND queued_at >= @since
            """,
            new { endpointId, now = now.ToUnixTimeMilliseconds(), since = since?.ToUnixTimeMilliseconds() ?? long.MinValue }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>
    /// SQLite: with no enabled endpoint, the end of the committed log (<see cref="PositionFollowsLogWithoutEndpoints"/>);
    /// otherwise, and always on PostgreSQL, the stored position. One statement, so one snapshot.
    /// </summary>
    public async Task<long> GetFanOutPositionAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var sql = PositionFollowsLogWithoutEndpoints
            ? $"SELECT CASE WHEN {NoEnabledEndpoint} AND {LogEnd} > last_seq THEN {LogEnd} ELSE last_seq END FROM webhook_fanout WHERE id = 1"
            : "SELECT last_seq FROM webhook_fanout WHERE id = 1";
        return await c.ExecuteScalarAsync<long>(new CommandDefinition(sql, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>
    /// SQLite: one writer at a time, and a row's sequence number is above every committed one, so the committed log never
    /// gets a gap filled later: with nobody to queue deliveries for, the whole committed log counts as fanned out without
    /// a write (the worker, woken by every intake commit, would otherwise take the write lock for a position alone).
    /// PostgreSQL: a lower number can commit after a higher one, so the workers keep moving the stored position.
    /// </summary>
    public bool PositionFollowsLogWithoutEndpoints => db.Dialect.MigrationsFolder != "postgres";

    private const string LogEnd = "(SELECT COALESCE(MAX(seq), 0) FROM mint_event)";

    private const string NoEnabledEndpoint = "NOT EXISTS (SELECT 1 FROM webhook_endpoint WHERE enabled = 1)";

    /// <summary>
    /// Before an endpoint is added or enabled, in the same write transaction: when none is enabled yet, the stored position
    /// is moved to the end of the log it stood for (<see cref="PositionFollowsLogWithoutEndpoints"/>), so the position read
    /// never goes back and the new endpoint gets the events committed after it, as when the worker moved the position
    /// over every event with nothing to queue.
    /// </summary>
    private async Task CatchUpIdlePositionAsync(DbConnection c, DbTransaction tx, CancellationToken ct)
    {
        if (PositionFollowsLogWithoutEndpoints)
        {
            await c.ExecuteAsync(new CommandDefinition(
                $"UPDATE webhook_fanout SET last_seq = {LogEnd} WHERE id = 1 AND last_seq < {LogEnd} AND {NoEnabledEndpoint}",
                transaction: tx, cancellationToken: ct)).ConfigureAwait(false);
        }
    }

    public async Task<bool> FanOutAsync(long from, long to, IReadOnlyList<NewWebhookDelivery> deliveries, DateTimeOffset now, CancellationToken ct) =>
        await db.InTransactionAsync((c, tx) => FanOutAsync(c, tx, new WebhookFanOutStep(from, to, deliveries), now, ct), ct).ConfigureAwait(false);

    private static async Task<bool> FanOutAsync(DbConnection c, DbTransaction tx, WebhookFanOutStep step, DateTimeOffset now, CancellationToken ct)
    {
        var moved = await c.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_fanout SET last_seq = @To WHERE id = 1 AND last_seq = @From", new { step.From, step.To }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (moved == 0)
        {
            return false;
        }
        var ms = now.ToUnixTimeMilliseconds();
        await c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO webhook_delivery (endpoint_id, event_seq, event_id, event_name, ordering_key, payload, status, attempts, next_attempt_at, queued_at)
            SELECT @EndpointId, @EventSeq, @EventId, @EventName, @OrderingKey, @Payload, 'pending', 0, @ms, @ms
            WHERE EXISTS (SELECT 1 FROM webhook_endpoint WHERE id = @EndpointId AND enabled = 1)
            ON CONFLICT (endpoint_id, event_seq) DO NOTHING
            """,
            step.Deliveries.Select(d => new { d.EndpointId, d.EventSeq, d.EventId, d.EventName, d.OrderingKey, d.Payload, ms }), tx, cancellationToken: ct)).ConfigureAwait(false);
        return true;
    }

    public async Task WaitForEventWritersAsync(CancellationToken ct)
    {
        if (db.Dialect.MigrationsFolder != "postgres")
        {
            return; // one writer at a time, and a reader's snapshot never shows a later row without the earlier ones
        }
        // SHARE conflicts with the ROW EXCLUSIVE lock every inserting transaction holds until it ends: granted once
        // all of them have committed or rolled back; released at once.
        await db.InTransactionAsync(async (c, tx) =>
            await c.ExecuteAsync(new CommandDefinition("LOCK TABLE mint_event IN SHARE MODE", transaction: tx, cancellationToken: ct)).ConfigureAwait(false), ct).ConfigureAwait(false);
    }

    internal static string StatusName(WebhookDeliveryStatus status) => status switch
    {
        WebhookDeliveryStatus.Pending => "pending",
        WebhookDeliveryStatus.Delivered => "delivered",
        _ => "failed",
    };

    internal static WebhookDeliveryStatus ParseStatus(string s) => s switch
    {
        "pending" => WebhookDeliveryStatus.Pending,
        "delivered" => WebhookDeliveryStatus.Delivered,
        _ => WebhookDeliveryStatus.Failed,
    };
}
