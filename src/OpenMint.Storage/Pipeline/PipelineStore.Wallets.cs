using System.Data.Common;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Pipeline;

namespace OpenMint.Storage.Pipeline;

/// <summary>
/// Several wallets per chain (docs/transactions.md, "Several wallets"): a wallet that cannot pay for gas gives its
/// unsent txs back, so the chain's other wallets mint their requests.
/// </summary>
internal sealed partial class PipelineStore
{
    public async Task<int> WithdrawUnsentTxsAsync(LeaseFence fence, DateTimeOffset now, CancellationToken ct)
    {
        var nowText = Time.ToWire(now);
        return await db.InTransactionAsync(async (c, tx) =>
        {
            var next = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
                """
                SELECT next_nonce FROM signer_lease WHERE chain_name = @ChainName AND signer_address = @Signer AND owner_instance = @Instance
                    AND lease_epoch = @Epoch AND lease_expires_at > @now
                """ + db.Dialect.ForUpdate,
                new { fence.ChainName, fence.Signer, fence.Instance, fence.Epoch, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
            if (next is null)
            {
                return 0;
            }
            var run = Withdrawable(await c.QueryAsync<UnsentRow>(new CommandDefinition(
                """
                SELECT t.id AS Id, t.nonce AS Nonce, t.batch_id AS BatchId, t.state AS State,
                    (SELECT COUNT(*) FROM tx_attempt a WHERE a.tx_id = t.id AND (a.broadcast_at IS NOT NULL OR (a.outcome IS NOT NULL AND a.outcome <> 'InsufficientFunds'))) AS Sent,
                    (SELECT COUNT(*) FROM tx_attempt a WHERE a.tx_id = t.id AND a.outcome = 'InsufficientFunds') AS Refused
                FROM tx t WHERE t.chain_name = @ChainName AND t.signer_address = @Signer AND t.state IN ('pending', 'mined')
                ORDER BY t.nonce DESC
                """,
                new { fence.ChainName, fence.Signer }, tx, cancellationToken: ct)).ConfigureAwait(false), next.Value);
            if (run.Count == 0)
            {
                return 0;
            }
            await DeleteUnsentAsync(c, tx, run, nowText, ct).ConfigureAwait(false);
            await c.ExecuteAsync(new CommandDefinition(
                "UPDATE signer_lease SET next_nonce = @first WHERE chain_name = @ChainName AND signer_address = @Signer",
                new { first = run[0].Nonce, fence.ChainName, fence.Signer }, tx, cancellationToken: ct)).ConfigureAwait(false);
            return run.Count;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The txs that can be taken back, lowest nonce first: the top of the signer's nonces (up to next_nonce - 1), none
    /// of them ever acknowledged by a node or answered other than "insufficient funds", starting at one the node
    /// refused for funds (one below it that was never answered may have reached a node before a crash: it stays).
    /// </summary>
    private static List<UnsentRow> Withdrawable(IEnumerable<UnsentRow> openByNonceDesc, long next)
    {
        var run = new List<UnsentRow>();
        var expected = next - 1;
        foreach (var row in openByNonceDesc)
        {
            if (row.Nonce != expected || row.State != TxState.Pending || row.Sent > 0)
            {
                break;
            }
            run.Add(row);
            expected--;
        }
        run.Reverse();
        var firstRefused = run.FindIndex(r => r.Refused > 0);
        return firstRefused < 0 ? [] : run[firstRefused..];
    }

    private async Task DeleteUnsentAsync(DbConnection c, DbTransaction tx, IReadOnlyList<UnsentRow> run, string nowText, CancellationToken ct)
    {
        var txIds = db.Dialect.List(run.Select(r => r.Id));
        var batchIds = db.Dialect.List(run.Select(r => r.BatchId));
        await c.ExecuteAsync(new CommandDefinition($"DELETE FROM tx_attempt WHERE {db.Dialect.In("tx_id", "@txIds")}", new { txIds }, tx, cancellationToken: ct)).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            $"UPDATE mint_request SET batch_id = NULL, updated_at = @now WHERE {db.Dialect.In("batch_id", "@batchIds")} AND status = 'pending'",
            new { batchIds, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition($"DELETE FROM tx WHERE {db.Dialect.In("id", "@txIds")}", new { txIds }, tx, cancellationToken: ct)).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition($"DELETE FROM batch WHERE {db.Dialect.In("id", "@batchIds")}", new { batchIds }, tx, cancellationToken: ct)).ConfigureAwait(false);
    }

    private sealed class UnsentRow
    {
        public long Id { get; set; }
        public long Nonce { get; set; }
        public long BatchId { get; set; }
        public string State { get; set; } = "";
        public long Sent { get; set; }
        public long Refused { get; set; }
    }
}
