using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>Confirmation by nonce progression and receipts, against a scripted node and a real SQLite store.</summary>
public class ConfirmerTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private const string A = "0x000000000000000000000000000000000000000a";

    [Fact]
    public async Task a_receipt_not_yet_deep_enough_marks_the_tx_mined_and_reconciles_it_at_depth()
    {
        var h = await SenderHarness.NewAsync(confirmations: 2);
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        Assert.True(await parts.Broadcaster.BroadcastInOrderAsync(await h.SignedAsync(parts, A), Ct)); // automine
        var tx = Assert.Single(await h.OpenTxsAsync());
        var block = await h.BlockAsync();
        Assert.True(await parts.Confirmer.ConfirmAsync(tx, 1, block, Ct));
        Assert.Equal(TxState.Mined, Assert.Single(await h.OpenTxsAsync()).State);
        Assert.Equal(MintStatus.Pending, (await h.GetAsync("ref-1")).Status);
        await parts.Confirmer.ConfirmMinedAsync(await h.OpenTxsAsync(), 1, block with { Number = block.Number + 2 }, Ct);
        Assert.Empty(await h.OpenTxsAsync());
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync("ref-1")).Status);
    }

    [Fact]
    public async Task a_mined_tx_whose_nonce_the_chain_no_longer_counts_is_pending_again()
    {
        var h = await SenderHarness.NewAsync(confirmations: 5);
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        Assert.True(await parts.Broadcaster.BroadcastInOrderAsync(await h.SignedAsync(parts, A), Ct));
        var block = await h.BlockAsync();
        await parts.Confirmer.ConfirmAsync(Assert.Single(await h.OpenTxsAsync()), 1, block, Ct);
        var mined = Assert.Single(await h.OpenTxsAsync());
        Assert.Equal(TxState.Mined, mined.State);
        Assert.False(await parts.Confirmer.ConfirmAsync(mined, 0, block, Ct)); // reorganised away
        Assert.Equal(TxState.Pending, Assert.Single(await h.OpenTxsAsync()).State);
    }

    [Fact]
    public async Task a_nonce_used_by_none_of_our_attempts_is_abandoned_after_five_lookups_and_its_requests_are_queued_again()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        await h.SignedAsync(parts, A); // never sent: the chain's nonce 0 went to another tx
        var block = await h.BlockAsync();
        for (var i = 1; i < Confirmer.MissesBeforeAbandon; i++)
        {
            Assert.True(await parts.Confirmer.ConfirmAsync(Assert.Single(await h.OpenTxsAsync()), 1, block, Ct));
        }
        Assert.Empty(await h.Store.Pipeline.ListQueuedAsync(h.Collection.Id, 10, Ct));
        await parts.Confirmer.ConfirmAsync(Assert.Single(await h.OpenTxsAsync()), 1, block, Ct);
        Assert.Empty(await h.OpenTxsAsync());
        Assert.Single(await h.Store.Pipeline.ListQueuedAsync(h.Collection.Id, 10, Ct));
        Assert.Equal(MintStatus.Pending, (await h.GetAsync("ref-1")).Status);
    }

    [Fact]
    public async Task a_sender_that_lost_its_lease_writes_nothing_and_stops_while_the_new_holder_completes_once()
    {
        var h = await SenderHarness.NewAsync();
        var old = h.Parts("old");
        await h.LeaseAsync(old);
        var attempt = Assert.Single(await h.SignedAsync(old, A));
        h.Node.Automine = false;
        Assert.True(await old.Broadcaster.BroadcastInOrderAsync([attempt], Ct));
        h.Node.Mine();
        var open = await h.OpenTxsAsync(); // what the old holder read before it stalled

        // It stalls past its lease; another instance takes over (a new epoch).
        h.Time.Advance(h.Options.LeaseDuration + TimeSpan.FromSeconds(1));
        var holder = h.Parts("new");
        await h.LeaseAsync(holder);

        // The old one resumes with what it read: its completion is refused, nothing changes, and it signs nothing more.
        await old.Confirmer.ConfirmMinedAsync(open, 1, await h.BlockAsync(), Ct);
        Assert.Equal(MintStatus.Pending, (await h.GetAsync("ref-1")).Status);
        Assert.Equal(TxState.Pending, Assert.Single(await h.OpenTxsAsync()).State);
        await h.AcceptAsync(A);
        Assert.Null(await old.Nonces.WriteAheadAsync([await h.PreparedAsync()], new Fees(1_000_000_000, 3_000_000_000), Ct));
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));

        await holder.Confirmer.ConfirmMinedAsync(await h.OpenTxsAsync(), 1, await h.BlockAsync(), Ct);
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync("ref-1")).Status);
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));
    }

    [Fact]
    public async Task a_mint_that_ran_out_of_gas_is_queued_again_once_with_a_raised_limit_and_fails_only_the_second_time()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        h.Node.OutOfGasBelow = 150_000; // the estimate (100,000) × 1.05 is not enough on chain
        var first = Assert.Single(await h.SignedAsync(parts, A));
        Assert.Equal(105_000, first.GasLimit);
        Assert.True(await parts.Broadcaster.BroadcastInOrderAsync([first], Ct));
        await parts.Confirmer.ConfirmMinedAsync(await h.OpenTxsAsync(), 1, await h.BlockAsync(), Ct);
        var requeued = await h.GetAsync("ref-1");
        Assert.Equal((MintStatus.Pending, (long?)null), (requeued.Status, requeued.BatchId));

        // Planned again: the new tx carries 1.5 × the limit that ran out, and it is minted.
        var second = Assert.Single(await parts.Nonces.WriteAheadAsync([await h.PreparedAsync()], new Fees(1_000_000_000, 3_000_000_000), Ct) ?? []);
        Assert.Equal(157_500, second.GasLimit);
        Assert.True(await parts.Broadcaster.BroadcastInOrderAsync([second], Ct));
        await parts.Confirmer.ConfirmMinedAsync(await h.OpenTxsAsync(), 2, await h.BlockAsync(), Ct);
        var minted = await h.GetAsync("ref-1");
        Assert.Equal((MintStatus.Succeeded, second.Hash), (minted.Status, minted.TransactionHash));

        // Out of gas at the raised limit too: failed, no third try.
        h.Node.OutOfGasBelow = 10_000_000;
        var third = Assert.Single(await h.SignedAsync(parts, A));
        Assert.True(await parts.Broadcaster.BroadcastInOrderAsync([third], Ct));
        await parts.Confirmer.ConfirmMinedAsync(await h.OpenTxsAsync(), 3, await h.BlockAsync(), Ct);
        Assert.Equal(MintStatus.Pending, (await h.GetAsync("ref-2")).Status);
        var fourth = Assert.Single(await parts.Nonces.WriteAheadAsync([await h.PreparedAsync()], new Fees(1_000_000_000, 3_000_000_000), Ct) ?? []);
        Assert.True(await parts.Broadcaster.BroadcastInOrderAsync([fourth], Ct));
        await parts.Confirmer.ConfirmMinedAsync(await h.OpenTxsAsync(), 4, await h.BlockAsync(), Ct);
        var failed = await h.GetAsync("ref-2");
        Assert.Equal((MintStatus.Failed, "execution reverted: out of gas", fourth.Hash), (failed.Status, failed.ErrorMessage, failed.TransactionHash));
        Assert.Empty(await h.Store.Pipeline.ListQueuedAsync(h.Collection.Id, 10, Ct));
    }

    [Fact]
    public async Task a_mint_that_reverted_on_chain_fails_its_assets_with_the_reason_read_at_its_block_and_keeps_the_hash()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        h.Node.MinedRevert = "Pausable: paused";
        var attempt = Assert.Single(await h.SignedAsync(parts, A));
        Assert.True(await parts.Broadcaster.BroadcastInOrderAsync([attempt], Ct));
        await parts.Confirmer.ConfirmMinedAsync(await h.OpenTxsAsync(), 1, await h.BlockAsync(), Ct);
        var failed = await h.GetAsync("ref-1");
        Assert.Equal(MintStatus.Failed, failed.Status);
        Assert.Equal("execution reverted: Pausable: paused", failed.ErrorMessage);
        Assert.Equal(attempt.Hash, failed.TransactionHash);
        Assert.Equal(0, h.Node.MintedTokens);
    }
}
