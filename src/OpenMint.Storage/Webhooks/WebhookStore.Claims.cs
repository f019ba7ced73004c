using System.Data.Common;
using Dapper;
using OpenMint.Core.Webhooks;

namespace OpenMint.Storage.Webhooks;

/// <summary>The sending side: leases on due deliveries, the outcomes of attempts, and the worker's round that does both at once.</summary>
internal sealed partial class WebhookStore
{
    /// <summary>
    /// Reads first, on a plain connection: each claim's candidates. A round with no outcome to record, no fan-out and no
    /// candidate would write nothing, so it takes no write lock (on SQLite the one every writer, intake included, waits for):
    /// its claims come back empty with their next due instants, read on the same connection.
    /// </summary>
    public async Task<WebhookRoundResult> RunRoundAsync(WebhookRound round, CancellationToken ct)
    {
        var candidates = new Dictionary<string, long[]>(round.Claims.Count);
        if (round.Outcomes.Count == 0 && round.FanOut is null && round.Claims.Count == 0)
        {
            return new WebhookRoundResult(false, []);
        }
        if (round.Claims.Count > 0)
        {
            await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
            candidates = await CandidatesAsync(c, round.Claims, round.Now, ct).ConfigureAwait(false);
            if (round.Outcomes.Count == 0 && round.FanOut is null && candidates.Values.All(ids => ids.Length == 0))
            {
                var idle = new List<WebhookClaimed>(round.Claims.Count);
                foreach (var claim in round.Claims)
                {
                    idle.Add(new WebhookClaimed(claim.EndpointId, [], await NextDueAsync(c, null, claim.EndpointId, round.Now, ct).ConfigureAwait(false)));
                }
                return new WebhookRoundResult(false, idle);
            }
        }
        return await db.InTransactionAsync(async (c, tx) =>
        {
            // Outcomes first: a delivered event frees the next event of its request for the claims below.
            await RecordAsync(c, tx, round.Outcomes, round.Now, ct).ConfigureAwait(false);
            var fannedOut = round.FanOut is { } f && await FanOutAsync(c, tx, f, round.Now, ct).ConfigureAwait(false);
            var claimed = new List<WebhookClaimed>(round.Claims.Count);
            foreach (var claim in round.Claims)
            {
                var deliveries = await ClaimAsync(c, tx, claim, candidates[claim.EndpointId], round.Now, round.LeaseUntil, ct).ConfigureAwait(false);
                var next = deliveries.Count < claim.Limit ? await NextDueAsync(c, tx, claim.EndpointId, round.Now, ct).ConfigureAwait(false) : null;
                claimed.Add(new WebhookClaimed(claim.EndpointId, deliveries, next));
            }
            return new WebhookRoundResult(fannedOut, claimed);
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The due deliveries each claim would take, read before the round's write transaction (a read beside the single SQLite
    /// writer, no lock held). An endpoint with a large due backlog (one failing for a while) costs its sort there, not in
    /// the transaction every other endpoint's round waits for. The round re-checks each candidate (<see cref="ClaimAsync"/>).
    /// </summary>
    private static async Task<Dictionary<string, long[]>> CandidatesAsync(DbConnection c, IReadOnlyList<WebhookClaim> claims, DateTimeOffset now, CancellationToken ct)
    {
        var candidates = new Dictionary<string, long[]>(claims.Count);
        foreach (var claim in claims)
        {
            var ids = await c.QueryAsync<long>(new CommandDefinition(
                $"SELECT d.id FROM webhook_delivery d WHERE d.endpoint_id = @endpointId AND {DueFilter} ORDER BY d.event_seq LIMIT @limit",
                new { endpointId = claim.EndpointId, limit = claim.Limit, now = now.ToUnixTimeMilliseconds() }, cancellationToken: ct)).ConfigureAwait(false);
            candidates[claim.EndpointId] = ids.ToArray();
        }
        return candidates;
    }

    /// <summary>
    /// A pending delivery that is due, not leased, and whose request has no earlier event pending at its endpoint. Callers put
    /// the endpoint (or the candidate ids, which name it: then no endpoint term, so SQLite looks the ids up by rowid) before it.
    /// </summary>
    private const string DueFilter = """
        d.status = 'pending' AND d.next_attempt_at <= @now
          AND (d.lease_until IS NULL OR d.lease_until < @now)
          AND EXISTS (SELECT 1 FROM webhook_endpoint w WHERE w.id = d.endpoint_id AND w.enabled = 1)
          AND NOT EXISTS (SELECT 1 FROM webhook_delivery e
                          WHERE e.endpoint_id = d.endpoint_id AND e.ordering_key = d.ordering_key
                            AND e.event_seq < d.event_seq AND e.status = 'pending')
        """;

    public async Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(string endpointId, int limit, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct) =>
        await db.InTransactionAsync((c, tx) => ClaimAsync(c, tx, endpointId, limit, null, now, leaseUntil, ct), ct).ConfigureAwait(false);

    /// <summary>
    /// Leases the candidates read before the transaction that still qualify (each re-checked by id, in the same statement),
    /// then, if that came short of the limit (new deliveries fanned out since, or candidates gone), the rest by the full query.
    /// </summary>
    private async Task<IReadOnlyList<WebhookDelivery>> ClaimAsync(
        DbConnection c, DbTransaction tx, WebhookClaim claim, long[] candidates, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var leased = candidates.Length == 0 ? []
            : await ClaimAsync(c, tx, claim.EndpointId, claim.Limit, candidates, now, leaseUntil, ct).ConfigureAwait(false);
        if (leased.Count >= claim.Limit)
        {
            return leased;
        }
        var rest = await ClaimAsync(c, tx, claim.EndpointId, claim.Limit - leased.Count, null, now, leaseUntil, ct).ConfigureAwait(false);
        return leased.Count == 0 ? rest : leased.Concat(rest).OrderBy(d => d.EventSeq).ToList();
    }

    public Task RecordOutcomesAsync(IReadOnlyList<(WebhookDelivery Delivery, DeliveryOutcome Outcome)> outcomes, DateTimeOffset now, CancellationToken ct) =>
        db.InTransactionAsync((c, tx) => RecordAsync(c, tx, outcomes, now, ct), ct);

    /// <param name="ids">null: any due delivery of the endpoint; else only these (the candidates read before the transaction).</param>
    private async Task<IReadOnlyList<WebhookDelivery>> ClaimAsync(
        DbConnection c, DbTransaction tx, string endpointId, int limit, long[]? ids, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        // The outer lease check is re-evaluated on PostgreSQL against a row another instance just leased, so two
        // instances never lease the same delivery; SKIP LOCKED lets them take different ones without waiting. The pick
        // is a MATERIALIZED CTE, evaluated once: as an IN (subquery) PostgreSQL may plan it as the inner side of a nested
        // loop and run its LIMIT once per outer row, leasing far more than the limit (seen on a table without statistics).
        var only = ids is null ? "d.endpoint_id = @endpointId AND " : db.Dialect.In("d.id", "@ids") + " AND ";
        var rows = await c.QueryAsync<DeliveryRow>(new CommandDefinition(
            $"""
            WITH pick AS MATERIALIZED (
                SELECT d.id FROM webhook_delivery d
                WHERE {only}{DueFilter}
                ORDER BY d.event_seq LIMIT @limit{db.Dialect.SkipLocked("d")})
            UPDATE webhook_delivery SET lease_until = @leaseUntil, attempts = attempts + 1
            WHERE id IN (SELECT id FROM pick)
              AND status = 'pending' AND (lease_until IS NULL OR lease_until < @now)
            RETURNING {DeliveryColumns}
            """,
            new { endpointId, limit, ids = ids is null ? null : db.Dialect.List(ids), now = now.ToUnixTimeMilliseconds(), leaseUntil = leaseUntil.ToUnixTimeMilliseconds() }, tx, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).OrderBy(d => d.EventSeq).ToList();
    }

    /// <summary>The earliest instant after <paramref name="now"/> at which a pending delivery of the endpoint becomes due (null: none).</summary>
    private static async Task<DateTimeOffset?> NextDueAsync(DbConnection c, DbTransaction? tx, string endpointId, DateTimeOffset now, CancellationToken ct)
    {
        var ms = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MIN(next_attempt_at) FROM webhook_delivery WHERE endpoint_id = @endpointId AND status = 'pending' AND next_attempt_at > @now",
            new { endpointId, now = now.ToUnixTimeMilliseconds() }, tx, cancellationToken: ct)).ConfigureAwait(false);
        return ms is { } m ? DateTimeOffset.FromUnixTimeMilliseconds(m) : null;
    }

    private async Task RecordAsync(DbConnection c, DbTransaction tx, IReadOnlyList<(WebhookDelivery Delivery, DeliveryOutcome Outcome)> outcomes, DateTimeOffset now, CancellationToken ct)
    {
        var ms = now.ToUnixTimeMilliseconds();
        // The common outcomes go as one statement per chunk of ids; the rare ones (retry, failure) one by one.
        foreach (var group in outcomes.Where(o => o.Outcome is DeliveryOutcome.Delivered).GroupBy(o => ((DeliveryOutcome.Delivered)o.Outcome).StatusCode))
        {
            await ByIdsAsync(c, tx, group.Select(o => o.Delivery.Id),
                "UPDATE webhook_delivery SET status = 'delivered', delivered_at = @ms, last_status_code = @code, last_error = NULL, lease_until = NULL WHERE {0}",
                new { ms, code = group.Key }, ct).ConfigureAwait(false);
        }
        await ByIdsAsync(c, tx, outcomes.Where(o => o.Outcome is DeliveryOutcome.Released).Select(o => o.Delivery.Id),
            "UPDATE webhook_delivery SET lease_until = NULL, attempts = attempts - 1 WHERE {0} AND status = 'pending'", new { }, ct).ConfigureAwait(false);
        await RetriesAsync(c, tx, outcomes.Where(o => o.Outcome is DeliveryOutcome.Retry).Select(o => (o.Delivery.Id, (DeliveryOutcome.Retry)o.Outcome)), ct).ConfigureAwait(false);
        foreach (var (delivery, outcome) in outcomes)
        {
            if (outcome is not DeliveryOutcome.Failed f)
            {
                continue;
            }
            await c.ExecuteAsync(new CommandDefinition(
                "UPDATE webhook_delivery SET status = 'failed', last_status_code = @code, last_error = @error, lease_until = NULL WHERE id = @id AND status = 'pending'",
                new { id = delivery.Id, code = f.StatusCode, error = f.Error }, tx, cancellationToken: ct)).ConfigureAwait(false);
            if (f.DisableEndpoint)
            {
                await c.ExecuteAsync(new CommandDefinition(
                    "UPDATE webhook_endpoint SET enabled = 0, disabled_reason = @error, updated_at = @ms WHERE id = @endpointId",
                    new { endpointId = delivery.EndpointId, error = f.Error, ms }, tx, cancellationToken: ct)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Retry outcomes as one <c>UPDATE ... FROM (VALUES ...)</c> per chunk (each row its own next attempt, jittered): an endpoint
    /// answering 500 to everything produces them at the rate events arrive, so one statement each would lengthen every round.
    /// </summary>
    private static async Task RetriesAsync(DbConnection c, DbTransaction tx, IEnumerable<(long Id, DeliveryOutcome.Retry Retry)> retries, CancellationToken ct)
    {
        foreach (var chunk in retries.Chunk(400))
        {
            var parameters = new DynamicParameters();
            var rows = new System.Text.StringBuilder();
            for (var i = 0; i < chunk.Length; i++)
            {
                var (id, r) = chunk[i];
                rows.Append(i == 0 ? "" : ", ").Append(System.Globalization.CultureInfo.InvariantCulture, $"(@i{i}, @a{i}, @c{i}, @e{i})");
                parameters.Add($"i{i}", id, System.Data.DbType.Int64);
                parameters.Add($"a{i}", r.At.ToUnixTimeMilliseconds(), System.Data.DbType.Int64);
                parameters.Add($"c{i}", r.StatusCode, System.Data.DbType.Int32);
                parameters.Add($"e{i}", r.Error, System.Data.DbType.String);
            }
            // VALUES columns are column1..column4 on both SQLite and PostgreSQL.
            await c.ExecuteAsync(new CommandDefinition(
                $"""
                UPDATE webhook_delivery SET next_attempt_at = v.column2, last_status_code = v.column3, last_error = v.column4, lease_until = NULL
                FROM (VALUES {rows}) AS v
                WHERE webhook_delivery.id = v.column1 AND webhook_delivery.status = 'pending'
                """, parameters, tx, cancellationToken: ct)).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="sqlFormat"/> (its <c>{0}</c> is the id filter) for <paramref name="ids"/> in chunks, with <paramref name="args"/>' values beside <c>@ids</c>.</summary>
    private async Task ByIdsAsync(DbConnection c, DbTransaction tx, IEnumerable<long> ids, string sqlFormat, object args, CancellationToken ct)
    {
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, sqlFormat, db.Dialect.In("id", "@ids"));
        foreach (var chunk in ids.Chunk(500))
        {
            var parameters = new DynamicParameters(args);
            parameters.Add("ids", db.Dialect.List(chunk));
            await c.ExecuteAsync(new CommandDefinition(sql, parameters, tx, cancellationToken: ct)).ConfigureAwait(false);
        }
    }
}
