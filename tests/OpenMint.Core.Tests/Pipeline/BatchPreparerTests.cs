using System.Globalization;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>Planning, preflight and the one bisection routine, against a scripted node and a real SQLite store.</summary>
public class BatchPreparerTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private const string A = "0x000000000000000000000000000000000000000a";
    private const string B = "0x000000000000000000000000000000000000000b";
    private const string C = "0x000000000000000000000000000000000000000c";
    private const string D = "0x000000000000000000000000000000000000000d";

    [Fact]
    public async Task the_assets_that_revert_are_found_by_bisection_and_fail_while_the_rest_are_prepared()
    {
        var h = await SenderHarness.NewAsync();
        var refs = await h.AcceptAsync(A, B, A, B);
        h.Node.RevertFor = owner => owner == B ? "ERC721: mint to a blocked address" : null;
        var prepared = await h.Parts().Preparer.PrepareAsync(await h.BlockAsync(), [], 16, null, Ct);
        var tx = Assert.Single(prepared);
        Assert.Equal(2, tx.Batch.RequestCount);
        Assert.Equal(5, h.Node.Estimates); // all four, then A,A and B,B, then B and B alone
        Assert.Equal(MintStatus.Failed, (await h.GetAsync(refs[1])).Status);
        Assert.Equal(ChainSender.BuildFailedPrefix + "ERC721: mint to a blocked address", (await h.GetAsync(refs[3])).ErrorMessage);
        Assert.Equal(MintStatus.Pending, (await h.GetAsync(refs[0])).Status);
    }

    [Fact]
    public async Task a_revert_that_hits_the_whole_collection_fails_every_asset_at_once_without_bisecting()
    {
        var h = await SenderHarness.NewAsync();
        var refs = await h.AcceptAsync(A, B, C, D);
        h.Node.RevertFor = _ => "AccessControl: account 0x00000000000000000000000000000000000000aa is missing role 0x01";
        Assert.Empty(await h.Parts().Preparer.PrepareAsync(await h.BlockAsync(), [], 16, null, Ct));
        Assert.Equal(1, h.Node.Estimates);
        foreach (var r in refs)
        {
            Assert.Equal(MintStatus.Failed, (await h.GetAsync(r)).Status);
        }
    }

    [Fact]
    public async Task a_batch_whose_estimate_is_over_the_per_tx_gas_cap_is_halved_until_each_part_fits()
    {
        var h = await SenderHarness.NewAsync();
        h.Options.PerTxGasCap = 200_000; // the fake estimates 40,000 + 60,000 per owner: four owners need 280,000
        await h.AcceptAsync(A, B, C, D);
        var prepared = await h.Parts().Preparer.PrepareAsync(await h.BlockAsync(), [], 16, null, Ct);
        Assert.Equal(2, prepared.Count);
        Assert.All(prepared, p => Assert.Equal(160_000, p.Gas));
        Assert.Equal(3, h.Node.Estimates);
    }

    [Fact]
    public async Task a_batch_the_node_calls_too_big_is_halved_by_the_same_routine()
    {
        var h = await SenderHarness.NewAsync();
        await h.AcceptAsync(A, B);
        h.Node.ScriptedEstimates.Enqueue(new NodeResult(SendOutcome.TooBig, "exceeds block gas limit"));
        var prepared = await h.Parts().Preparer.PrepareAsync(await h.BlockAsync(), [], 16, null, Ct);
        Assert.Equal(2, prepared.Count);
        Assert.All(prepared, p => Assert.Equal(1, p.Batch.RequestCount));
    }

    [Fact]
    public async Task insufficient_funds_at_preflight_pauses_the_signer_and_prepares_nothing()
    {
        var h = await SenderHarness.NewAsync();
        var refs = await h.AcceptAsync(A);
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        h.Node.NoFunds = true;
        h.Node.ScriptedEstimates.Enqueue(new NodeResult(SendOutcome.InsufficientFunds, "insufficient funds for gas * price + value"));
        Assert.Empty(await parts.Preparer.PrepareAsync(await h.BlockAsync(), [], 16, null, Ct));
        Assert.IsType<SignerNotice.Paused>(parts.Status.Current);
        var pending = await h.GetAsync(refs[0]);
        Assert.Equal(MintStatus.Pending, pending.Status);
        Assert.Equal(SignerNotice.InsufficientFunds("fake", h.Node.Address, 0).Message, pending.ErrorMessage);
    }

    [Fact]
    public async Task no_more_txs_are_prepared_than_there_is_room_for_in_flight()
    {
        var h = await SenderHarness.NewAsync();
        h.Options.PerTxGasCap = 200_000; // four owners do not fit one tx: two are prepared, one has room
        await h.AcceptAsync(A, B, C, D);
        var prepared = await h.Parts().Preparer.PrepareAsync(await h.BlockAsync(), [], 1, null, Ct);
        Assert.Equal(2, Assert.Single(prepared).Batch.RequestCount);
    }

    private static readonly Fees Fees = new(1_000_000_000, 3_000_000_000);

    private static string[] Owners(int from, int count) =>
        Enumerable.Range(from, count).Select(i => "0x" + i.ToString("x40", CultureInfo.InvariantCulture)).ToArray();

    // By the V1 model (36k + 28k per owner) 510 single-asset owners make a full batch (the target is 14.34M of a 30M block)
    // and 40 more a partial one (1.16M model, 1.21M gas limit).
    private const int FullOwners = 510;
    private const int AllOwners = 550;

    [Fact]
    public async Task a_partial_batch_that_the_txs_in_flight_and_the_full_batches_leave_no_room_for_in_the_next_block_waits_while_requests_arrive_and_one_with_room_goes()
    {
        var h = await SenderHarness.NewAsync();
        h.Options.MaxBatchWait = TimeSpan.FromMinutes(5);
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        await h.AcceptAsync(Owners(1_000, 1));
        Assert.NotNull(await parts.Nonces.WriteAheadAsync([await h.PreparedAsync(gas: 14_800_000)], Fees, Ct));
        var inFlight = await h.OpenTxsAsync();
        await h.AcceptAsync(Owners(1, AllOwners));
        var block = await h.BlockAsync();
        var sendTime = new PartialHold(h.Time.GetUtcNow(), null); // the next block's send time has come

        // 14.8M used in flight; the full batch's 15.03M limit still fits after it (29.1M used), the partial's 1.21M does not.
        var held = await h.Parts().Preparer.PrepareAsync(block, inFlight, 16, sendTime, Ct);
        Assert.Equal(FullOwners, held.Sum(p => p.Batch.RequestCount));
        // Nothing in flight: the partial fits the next block after the full batch, so it goes now.
        var room = await h.Parts().Preparer.PrepareAsync(block, [], 16, sendTime, Ct);
        Assert.Equal(AllOwners, room.Sum(p => p.Batch.RequestCount));
        // No schedule (automine): everything goes at once, as before.
        var automine = await h.Parts().Preparer.PrepareAsync(block, inFlight, 16, null, Ct);
        Assert.Equal(AllOwners, automine.Sum(p => p.Batch.RequestCount));
        // Once requests stop arriving there is no company to wait for: it goes, to be packed with the rest.
        h.Time.Advance(h.Options.PollInterval + h.Options.BlockSendLead);
        var quiet = await h.Parts().Preparer.PrepareAsync(block, inFlight, 16, sendTime, Ct);
        Assert.Equal(AllOwners, quiet.Sum(p => p.Batch.RequestCount));
    }

    [Fact]
    public async Task while_a_burst_arrives_faster_than_blocks_take_it_partial_batches_wait_for_its_end_and_a_light_load_never_waits()
    {
        var h = await SenderHarness.NewAsync();
        var steady = new PartialHold(h.Time.GetUtcNow(), TimeSpan.FromSeconds(2)); // a block every 2 s by itself; its send time came
        h.Options.MaxBatchWait = TimeSpan.FromMinutes(5);
        await h.AcceptAsync(Owners(1, AllOwners)); // 15.5M of work (over half a block) at once
        var during = await h.Parts().Preparer.PrepareAsync(await h.BlockAsync(), [], 16, steady, Ct);
        Assert.Equal(FullOwners, during.Sum(p => p.Batch.RequestCount));
        h.Time.Advance(TimeSpan.FromSeconds(2)); // nothing more arrived for a block interval: the burst is over
        var after = await h.Parts().Preparer.PrepareAsync(await h.BlockAsync(), [], 16, steady, Ct);
        Assert.Equal(AllOwners, after.Sum(p => p.Batch.RequestCount));

        var light = await SenderHarness.NewAsync();
        light.Options.MaxBatchWait = TimeSpan.FromMinutes(5);
        await light.AcceptAsync(Owners(1, 3));
        Assert.Equal(3, (await light.Parts().Preparer.PrepareAsync(await light.BlockAsync(), [], 16, steady, Ct)).Sum(p => p.Batch.RequestCount));
    }
}
