using System.Numerics;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Tests.Pipeline;

public class PlannerTests
{
    private static readonly Collection V2 = new(1, "c", "0x" + new string('a', 40), "p", CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, DateTimeOffset.UnixEpoch);
    private static readonly Collection E1155 = V2 with { Kind = CollectionKind.Erc1155, Variant = PresetVariant.Erc1155 };

    private static string Owner(int i) => "0x" + i.ToString("x40", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void by_quantity_requests_of_one_owner_from_many_callers_merge_into_one_entry()
    {
        var queue = new List<QueuedMint>();
        for (var i = 0; i < 30; i++)
        {
            queue.Add(new QueuedMint(i + 1, Owner(i % 3), null, 1));
        }
        var plans = BatchPlanner.Plan(V2, MintMethod.ByQuantity, queue, 14_000_000);
        var batch = Assert.Single(plans).Batch;
        Assert.Equal(3, batch.Entries.Count);
        Assert.All(batch.Entries, e => Assert.Equal(10, e.Quantity));
        Assert.Equal(new long[] { 1, 4, 7, 10, 13, 16, 19, 22, 25, 28 }, batch.Entries[0].RequestIds);
        Assert.False(plans[0].Full);
    }

    [Fact]
    public void a_batch_closes_when_the_next_asset_would_pass_the_gas_target_and_the_owner_continues_in_the_next()
    {
        var queue = Enumerable.Range(1, 100).Select(i => new QueuedMint(i, Owner(1 + (i - 1) / 50), BigInteger.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture), 1)).ToList();
        var target = GasModel.TxBase(MintMethod.ById) + GasModel.Entry(MintMethod.ById, PresetVariant.Erc721V2, 60);
        var plans = BatchPlanner.Plan(V2, MintMethod.ById, queue, target);
        Assert.Equal(2, plans.Count);
        Assert.True(plans[0].Full);
        // The second owner's entry pays the fresh-entry cost once: 50 + 9 fit where 60 of one owner would.
        Assert.Equal(59, plans[0].Batch.RequestCount);
        Assert.Equal(new[] { Owner(1), Owner(2) }, plans[0].Batch.Entries.Select(e => e.To));
        Assert.Equal(9, plans[0].Batch.Entries[1].Quantity);
        Assert.Equal(41, plans[1].Batch.RequestCount);
        Assert.All(plans, p => Assert.True(p.Batch.EstimatedGas <= target));
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), plans.SelectMany(p => p.Batch.RequestIds).Order());
    }

    [Fact]
    public void erc1155_takes_one_owner_per_call()
    {
        var queue = Enumerable.Range(1, 9).Select(i => new QueuedMint(i, Owner(i % 3), i, 5)).ToList();
        var plans = BatchPlanner.Plan(E1155, MintMethod.Erc1155, queue, 14_000_000);
        Assert.Equal(3, plans.Count);
        Assert.All(plans, p => Assert.Single(p.Batch.Entries));
        Assert.Equal(new[] { "1", "4", "7" }, plans[0].Batch.Entries[0].TokenIds);
        Assert.Equal(new[] { "5", "5", "5" }, plans[0].Batch.Entries[0].Amounts);
    }

    [Fact]
    public void target_gas_lets_whole_txs_fill_a_block_under_the_per_tx_cap()
    {
        var target = BatchPlanner.TargetGas(30_000_000, 16_777_216, 1.05);
        // A builder takes the second tx when the first one's gas used plus the second's limit fits, even when both
        // estimates come out 2 % over the model-sized target.
        var over = (long)(target * (1 + BatchPlanner.EstimateHeadroom));
        Assert.True(over + (long)Math.Ceiling(over * 1.05) <= 30_000_000);
        Assert.True(target * 2 >= 0.95 * 30_000_000);
        Assert.True(target * 1.05 <= 16_777_216);
        Assert.Equal((long)(60_000_000 * 0.98 / 1.05), BatchPlanner.TargetGas(60_000_000, 100_000_000, 1.05));
    }

    private sealed record Tx(string Name, long Limit, long Gas);

    /// <summary>What a block builder does with one sender's txs in nonce order: used + limit must fit, else the next block.</summary>
    private static List<List<Tx>> Mine(IEnumerable<Tx> nonceOrder, long blockGasLimit)
    {
        var blocks = new List<List<Tx>> { new() };
        long used = 0;
        foreach (var tx in nonceOrder)
        {
            if (used + tx.Limit > blockGasLimit)
            {
                blocks.Add([]);
                used = 0;
            }
            blocks[^1].Add(tx);
            used += tx.Gas;
        }
        return blocks;
    }

    [Fact]
    public void nonces_are_given_in_an_order_that_fills_every_block_but_the_last()
    {
        // The pipeline benchmark's mix: block-sized by-id txs, one by-quantity tx, many small ERC1155 txs.
        var txs = Enumerable.Range(0, 6).Select(i => new Tx($"id{i}", 14_500_000, 13_800_000))
            .Append(new Tx("qty", 14_150_000, 13_470_000))
            .Concat(Enumerable.Range(0, 100).Select(i => new Tx($"e{i}", 1_625_000, 1_548_000)))
            .ToList();
        var order = BlockPacker.Order([], txs, t => t.Limit, t => t.Gas, 30_000_000);
        Assert.Equal(txs.Count, order.Distinct().Count());
        var blocks = Mine(order, 30_000_000);
        var total = txs.Sum(t => t.Gas);
        Assert.Equal((int)Math.Ceiling(total / (30_000_000 * 0.96)), blocks.Count);
        Assert.All(blocks[..^1], b => Assert.True(b.Sum(t => t.Gas) >= 0.95 * 30_000_000, $"block of {b.Sum(t => t.Gas)} gas"));
        // In the naive order (largest first) each pair of block-sized txs is alone in its block, at 92 %.
        var naive = Mine(txs, 30_000_000);
        Assert.Contains(naive[..^1], b => b.Sum(t => t.Gas) < 0.93 * 30_000_000);
    }

    [Fact]
    public void new_txs_continue_the_block_that_the_txs_in_flight_leave_open()
    {
        var inFlight = new (long, long)[] { (14_500_000, 13_800_000) };
        var txs = new[] { new Tx("small", 1_000_000, 950_000), new Tx("big", 14_500_000, 13_800_000), new Tx("small2", 1_000_000, 950_000) };
        var order = BlockPacker.Order(inFlight, txs, t => t.Limit, t => t.Gas, 30_000_000);
        // 13.8M used + the big one's 14.5M limit fits; then one small (27.6M + 1M), and the second small opens the next block.
        Assert.Equal(["big", "small", "small2"], order.Select(t => t.Name));
        var full = BlockPacker.Order(new (long, long)[] { (29_500_000, 29_200_000) }, txs, t => t.Limit, t => t.Gas, 30_000_000);
        Assert.Equal("big", full[0].Name); // nothing fits the open block: the largest opens the next one
    }

    [Fact]
    public void each_new_tx_is_placed_in_the_block_it_lands_in_counting_from_the_next_block()
    {
        var txs = new[] { new Tx("small", 1_300_000, 1_250_000), new Tx("big", 14_500_000, 13_800_000), new Tx("small2", 1_300_000, 1_250_000) };
        // 13.8M used in flight + the big one's 14.5M limit fits; then one small (27.6M + 1.3M), the second (28.85M + 1.3M) not.
        var placed = BlockPacker.Place(new (long, long)[] { (14_500_000, 13_800_000) }, txs, t => t.Limit, t => t.Gas, 30_000_000);
        Assert.Equal([("big", 0), ("small", 0), ("small2", 1)], placed.Select(p => (p.Item.Name, p.Block)));
        // Txs in flight that spill past the next block: nothing new lands in it.
        var behind = BlockPacker.Place(new (long, long)[] { (29_500_000, 29_200_000), (14_500_000, 13_800_000) }, txs, t => t.Limit, t => t.Gas, 30_000_000);
        Assert.All(behind, p => Assert.True(p.Block >= 1));
    }

    [Fact]
    public void the_calldata_of_a_by_quantity_call_is_the_abi_layout_of_mint_structs()
    {
        var entries = new[] { new MintEntry("0x" + new string('1', 40), [1, 2, 3], null, null) };
        var data = MintCalls.Encode(MintMethod.ByQuantity, entries);
        Assert.Equal("e1927859", Convert.ToHexStringLower(data.AsSpan(0, 4)));
        Assert.Equal(4 + 32 * 4, data.Length);
        Assert.Equal(32, data[4 + 31]);
        Assert.Equal(1, data[4 + 63]);
        Assert.Equal(new string('1', 40), Convert.ToHexStringLower(data.AsSpan(4 + 64 + 12, 20)));
        Assert.Equal(3, data[4 + 127]);
    }
}
