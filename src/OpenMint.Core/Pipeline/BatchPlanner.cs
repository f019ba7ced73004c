using System.Globalization;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>A planned batch and whether it was closed because the next asset did not fit (a full tx).</summary>
public sealed record PlannedBatch(MintBatch Batch, bool Full);

/// <summary>
/// Packs queued requests of one collection and one method into as few calls as fit under a gas
/// target. All requests of one owner go into one entry (by quantity: one <c>Mint{to, quantity}</c>;
/// by id: one <c>IDMint</c>), owners in order of their oldest request; an owner is split across
/// calls only when a call is full. ERC1155 calls take one owner each.
/// </summary>
public static class BatchPlanner
{
    public static IReadOnlyList<PlannedBatch> Plan(Collection collection, MintMethod method, IReadOnlyList<QueuedMint> queue, long targetGas, double ratio = 1.0)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(queue);
        var result = new List<PlannedBatch>();
        if (queue.Count == 0)
        {
            return result;
        }
        var owners = queue.GroupBy(q => q.Owner, StringComparer.Ordinal).ToList(); // GroupBy keeps first-appearance order
        var builder = new Builder(collection, method, targetGas, ratio, result);
        foreach (var owner in owners)
        {
            if (method == MintMethod.Erc1155)
            {
                builder.Close(full: false);
            }
            foreach (var mint in owner)
            {
                builder.Add(mint);
            }
        }
        builder.Close(full: false);
        return result;
    }

    /// <summary>The call for exactly these requests (used to re-build halves when bisecting a revert).</summary>
    public static MintBatch Build(Collection collection, MintMethod method, IReadOnlyList<QueuedMint> requests, double ratio = 1.0)
    {
        var plans = Plan(collection, method, requests, long.MaxValue / 4, ratio);
        if (plans.Count != 1)
        {
            throw new InvalidOperationException("requests of several ERC1155 owners cannot share one call");
        }
        return plans[0].Batch;
    }

    /// <summary>How far an estimate may come out above the model-sized target and still let k txs share a block.</summary>
    public const double EstimateHeadroom = 0.02;

    /// <summary>
    /// Largest gas per tx so that whole txs fill a block, each under the per-tx cap. Block builders (geth's
    /// miner, Anvil) take a tx while gas <em>used</em> so far plus the tx's gas <em>limit</em> fits the block, so k
    /// txs fit when (k - 1) × target + target × margin ≤ block gas limit. The target keeps
    /// <see cref="EstimateHeadroom"/> below that: a batch is sized by the calibrated model, and an estimate a
    /// little over it would otherwise stop two block-sized txs from sharing a block (each alone at ~49 %).
    /// </summary>
    public static long TargetGas(long blockGasLimit, long perTxGasCap, double gasLimitMargin)
    {
        var perTx = Math.Min(blockGasLimit, perTxGasCap);
        var txsPerBlock = (long)Math.Ceiling((double)blockGasLimit / perTx);
        var target = (long)(blockGasLimit * (1 - EstimateHeadroom) / (txsPerBlock - 1 + gasLimitMargin));
        return Math.Min(target, (long)(perTxGasCap / gasLimitMargin));
    }

    private sealed class Builder(Collection collection, MintMethod method, long targetGas, double ratio, List<PlannedBatch> output)
    {
        private readonly List<(string To, List<QueuedMint> Mints)> _entries = [];
        private long _modelGas;

        public void Add(QueuedMint mint)
        {
            var last = _entries.Count > 0 && _entries[^1].To == mint.Owner ? _entries[^1] : default;
            var count = last.Mints?.Count ?? 0;
            var added = _entries.Count == 0 ? GasModel.TxBase(method) : 0;
            added += GasModel.AddOne(method, collection.Variant, count);
            if (_entries.Count > 0 && (_modelGas + added) * ratio > targetGas)
            {
                Close(full: true);
                Add(mint);
                return;
            }
            _modelGas += added;
            if (last.Mints is not null)
            {
                last.Mints.Add(mint);
            }
            else
            {
                _entries.Add((mint.Owner, [mint]));
            }
        }

        public void Close(bool full)
        {
            if (_entries.Count == 0)
            {
                return;
            }
            var entries = _entries.Select(e => new MintEntry(
                e.To,
                e.Mints.Select(m => m.RequestId).ToList(),
                method == MintMethod.ByQuantity ? null : e.Mints.Select(m => Dec(m.TokenId ?? throw new InvalidOperationException($"request {m.RequestId} needs a token id"))).ToList(),
                method == MintMethod.Erc1155 ? e.Mints.Select(m => Dec(m.Amount)).ToList() : null)).ToList();
            output.Add(new PlannedBatch(new MintBatch(collection.Id, collection.Address, method, entries, (long)Math.Ceiling(_modelGas * ratio)), full));
            _entries.Clear();
            _modelGas = 0;
        }

        private static string Dec(System.Numerics.BigInteger v) => v.ToString(CultureInfo.InvariantCulture);
    }
}
