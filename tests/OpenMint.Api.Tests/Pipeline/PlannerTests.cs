using System.Numerics;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;

namespace OpenMint.Api.Tests.Pipeline;

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
        Assert.True(target * 1.05 * 2 <= 30_000_000);
        Assert.True(target * 2 >= 0.9 * 30_000_000 / 1.05 - 1);
        Assert.True(target * 1.05 <= 16_777_216);
        Assert.Equal((long)(60_000_000 / 1.05), BatchPlanner.TargetGas(60_000_000, 100_000_000, 1.05));
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
