using System.Data.Common;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Refresh;

namespace OpenMint.Storage.Refresh;

/// <summary>
/// The worker's token claims: fair turns round the projects and their refreshes, least recently served first
/// (see docs/architecture.md, metadata refresh), with leases swept before a claim.
/// </summary>
internal sealed partial class RefreshStore
{
    private long _nextLeaseSweep;

    /// <summary>Refreshes one claim looks at, least recently served first.</summary>
    private const int ClaimCandidates = 256;

    public async Task<IReadOnlyList<ClaimedToken>> ClaimTokensAsync(TokenClaim claim, CancellationToken ct)
    {
        await SweepExpiredLeasesAsync(claim.Now, ct).ConfigureAwait(false);
        IReadOnlyList<ClaimCandidate> candidates;
        await using (var read = await db.OpenConnectionAsync(ct).ConfigureAwait(false))
        {
            // A plain read first: the refreshes with pending tokens and their last turn. It takes no write lock, and
            // a claim whose every candidate is declined (their origins' queues are full) ends here.
            candidates = (await read.QueryAsync<CandidateRow>(new CommandDefinition(
                """
                SELECT r.seq AS Seq, r.project_id AS ProjectId, r.base_uri AS BaseUri, COALESCE(r.served_order, 0) AS LastServed
                FROM metadata_refresh r
                WHERE r.start_state = 'started' AND r.completed_at IS NULL
                  AND EXISTS (SELECT 1 FROM metadata_refresh_token t WHERE t.refresh_seq = r.seq AND t.state = 'pending')
                ORDER BY COALESCE(r.served_order, 0), r.seq LIMIT @limit
                """,
                new { limit = ClaimCandidates }, cancellationToken: ct)).ConfigureAwait(false)).Select(r => r.ToModel()).ToList();
        }
        var planner = new ClaimPlanner(candidates, claim);
        if (!planner.TryNextTurn(out var first, out var firstCount))
        {
            return [];
        }
        return await db.InTransactionAsync(async (c, tx) =>
        {
            var ids = new List<long>();
            var served = new SortedDictionary<long, long>();
            var servedBase = claim.Now.ToUnixTimeMilliseconds() * 10_000;
            var (refresh, count, turn) = (first, firstCount, 0);
            do
            {
                var leased = await LeaseTurnAsync(c, tx, claim, refresh.Seq, count, ct).ConfigureAwait(false);
                ids.AddRange(leased);
                served[refresh.Seq] = servedBase + Math.Min(turn++, 9_999);
                planner.Leased(refresh, leased.Count);
            }
            while (planner.TryNextTurn(out refresh, out count));
            await MarkServedAsync(c, tx, served, ct).ConfigureAwait(false);
            return await ReadClaimedAsync(c, tx, ids, ct).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Puts tokens whose lease expired (their instance died) back to 'pending', at most every few seconds per instance:
    /// claims then only ever scan 'pending' rows.
    /// </summary>
    private async Task SweepExpiredLeasesAsync(DateTimeOffset now, CancellationToken ct)
    {
        var due = now.ToUnixTimeMilliseconds();
        var next = Interlocked.Read(ref _nextLeaseSweep);
        if (due < next || Interlocked.CompareExchange(ref _nextLeaseSweep, due + 5_000, next) != next)
        {
            return;
        }
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE metadata_refresh_token SET state = 'pending', lease_owner = NULL, lease_until = NULL WHERE state = 'claimed' AND lease_until < @now",
            new { now = Time.ToWire(now) }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>
    /// One turn: the refresh's first <paramref name="count"/> pending tokens (rows another instance is leasing are skipped). The
    /// pick is a MATERIALIZED CTE so its LIMIT runs once (an IN (subquery) may be re-run per row of a nested loop).
    /// </summary>
    private async Task<List<long>> LeaseTurnAsync(DbConnection c, DbTransaction tx, TokenClaim claim, long seq, int count, CancellationToken ct) =>
        (await c.QueryAsync<long>(new CommandDefinition(
            $"""
            WITH pick AS MATERIALIZED (
                SELECT id FROM metadata_refresh_token WHERE refresh_seq = @seq AND state = 'pending' ORDER BY id LIMIT @count{db.Dialect.SkipLocked()})
            UPDATE metadata_refresh_token SET state = 'claimed', lease_owner = @owner, lease_until = @until
            WHERE id IN (SELECT id FROM pick) AND state = 'pending'
            RETURNING id
            """,
            new { owner = claim.Owner, until = Time.ToWire(claim.Now + claim.Lease), seq, count }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();

    /// <summary>
    /// Remembers each served refresh's turn, in seq order. A refresh row another transaction holds (a completion writing
    /// its counts) is skipped rather than waited for: the claim never waits on a refresh row, so it cannot deadlock with
    /// completions, and a missed mark only moves that refresh's next turn earlier.
    /// </summary>
    private async Task MarkServedAsync(DbConnection c, DbTransaction tx, SortedDictionary<long, long> served, CancellationToken ct)
    {
        await using var mark = ReusedCommand.Create(c, tx,
            $"UPDATE metadata_refresh SET served_order = @order WHERE seq IN (SELECT seq FROM metadata_refresh WHERE seq = @seq{db.Dialect.SkipLocked()})",
            "order", "seq");
        foreach (var (seq, order) in served)
        {
            mark.Parameters["order"].Value = order;
            mark.Parameters["seq"].Value = seq;
            await mark.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<ClaimedToken>> ReadClaimedAsync(DbConnection c, DbTransaction tx, List<long> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        var rows = await c.QueryAsync<ClaimRow>(new CommandDefinition(
            $"""
            SELECT t.id AS Id, t.refresh_seq AS RefreshSeq, r.collection_id AS CollectionId, t.token_id AS TokenId, r.base_uri AS BaseUri,
                   CASE WHEN EXISTS (SELECT 1 FROM token k WHERE k.collection_id = r.collection_id AND k.token_id = t.token_id) THEN 1 ELSE 0 END AS Known
            FROM metadata_refresh_token t JOIN metadata_refresh r ON r.seq = t.refresh_seq
            WHERE {db.Dialect.In("t.id", "@ids")} ORDER BY t.id
            """,
            new { ids = db.Dialect.List(ids) }, tx, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => new ClaimedToken(r.Id, r.RefreshSeq, r.CollectionId, r.TokenId, r.BaseUri ?? "", r.Known != 0)).ToList();
    }

    private sealed class CandidateRow
    {
        public long Seq { get; set; }
        public string ProjectId { get; set; } = "";
        public string? BaseUri { get; set; }
        public long LastServed { get; set; }

        public ClaimCandidate ToModel() => new(Seq, ProjectId, BaseUri ?? "", LastServed);
    }

    private sealed class ClaimRow
    {
        public long Id { get; set; }
        public long RefreshSeq { get; set; }
        public long CollectionId { get; set; }
        public string TokenId { get; set; } = "";
        public string? BaseUri { get; set; }
        public long Known { get; set; }
    }
}
