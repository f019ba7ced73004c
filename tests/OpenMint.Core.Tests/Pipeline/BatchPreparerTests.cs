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
}
