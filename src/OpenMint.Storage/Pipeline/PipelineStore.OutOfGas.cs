using Dapper;
using OpenMint.Core;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Pipeline;

/// <summary>A mined mint that ran out of gas: its requests are queued again once, with a raised gas limit (mint_request.gas_limit_floor).</summary>
internal sealed partial class PipelineStore
{
    public async Task<bool> RequeueOutOfGasAsync(LeaseFence fence, long txId, string hash, long gasLimitFloor, string message, Collection collection, ChainConfig chain,
        DateTimeOffset now, CancellationToken ct)
    {
        var nowText = Time.ToWire(now);
        return await db.InTransactionAsync(async (c, tx) =>
        {
            var batchId = await CloseTxAsync(c, tx, fence, txId, hash, message, now, ct).ConfigureAwait(false);
            if (batchId is null)
            {
                return false;
            }
            // Second time out of gas: fail (with the hash of this tx), as any mined revert.
            await FailRequestsAsync(c, tx, "batch_id = @batchId AND status = 'pending' AND gas_limit_floor IS NOT NULL", new DynamicParameters(new { batchId }), message, hash, collection, chain, now, ct)
                .ConfigureAwait(false);
            await c.ExecuteAsync(new CommandDefinition(
                """
                UPDATE mint_request SET batch_id = NULL, gas_limit_floor = @gasLimitFloor, updated_at = @now
                WHERE batch_id = @batchId AND status = 'pending' AND gas_limit_floor IS NULL
                """,
                new { batchId, gasLimitFloor, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyDictionary<long, long>> GasLimitFloorsAsync(IReadOnlyList<long> requestIds, CancellationToken ct)
    {
        var result = new Dictionary<long, long>();
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        foreach (var chunk in requestIds.Chunk(InChunk))
        {
            var rows = await c.QueryAsync<(long Id, long Floor)>(new CommandDefinition(
                $"SELECT id, gas_limit_floor FROM mint_request WHERE {db.Dialect.In("id", "@chunk")} AND gas_limit_floor IS NOT NULL",
                new { chunk = db.Dialect.List(chunk) }, cancellationToken: ct)).ConfigureAwait(false);
            foreach (var (id, floor) in rows)
            {
                result[id] = floor;
            }
        }
        return result;
    }
}
