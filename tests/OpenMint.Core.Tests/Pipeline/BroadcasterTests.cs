using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>Sends, the pool check and the node's answers, against a scripted node and a real SQLite store.</summary>
public class BroadcasterTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private const string A = "0x000000000000000000000000000000000000000a";
    private const string B = "0x000000000000000000000000000000000000000b";

    [Fact]
    public async Task an_accepted_send_is_acknowledged_and_resumes_a_paused_signer()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        var attempt = Assert.Single(await h.SignedAsync(parts, A));
        h.Node.NoFunds = true;
        Assert.Equal(SendOutcome.InsufficientFunds, await parts.Broadcaster.BroadcastAsync(attempt, Ct));
        Assert.IsType<SignerNotice.Paused>(parts.Status.Current);
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM tx_attempt WHERE broadcast_at IS NULL"));
        h.Node.NoFunds = false;
        Assert.Equal(SendOutcome.Accepted, await parts.Broadcaster.BroadcastAsync(attempt, Ct));
        Assert.Null(parts.Status.Current);
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM tx_attempt WHERE broadcast_at IS NULL"));
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM signer_lease WHERE paused_reason IS NOT NULL"));
    }

    [Fact]
    public async Task nonce_too_high_leaves_the_attempt_unacknowledged_and_asks_for_a_nonce_sync()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        var attempts = await h.SignedAsync(parts, A, B);
        h.Node.ScriptedSends.Enqueue(new NodeResult(SendOutcome.NonceTooHigh, "nonce too high"));
        Assert.False(await parts.Broadcaster.BroadcastInOrderAsync(attempts, Ct));
        Assert.True(parts.Nonces.SyncNeeded);
        Assert.Equal(2, await h.CountAsync("SELECT COUNT(*) FROM tx_attempt WHERE broadcast_at IS NULL"));
        Assert.Empty(h.Node.Sent); // it stopped at the first: the second waits for recovery
    }

    [Fact]
    public async Task a_fee_cap_under_the_base_fee_asks_for_a_new_price_once()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        var attempt = Assert.Single(await h.SignedAsync(parts, A));
        h.Node.ScriptedSends.Enqueue(new NodeResult(SendOutcome.FeeCapBelowBaseFee, "max fee per gas less than block base fee"));
        Assert.Equal(SendOutcome.FeeCapBelowBaseFee, await parts.Broadcaster.BroadcastAsync(attempt, Ct));
        Assert.True(parts.Broadcaster.RepriceRequested(attempt.TxId));
        Assert.True(parts.Broadcaster.TakeRepriceRequest(attempt.TxId));
        Assert.False(parts.Broadcaster.RepriceRequested(attempt.TxId));
    }

    [Fact]
    public async Task a_refused_send_shows_the_nodes_words_on_the_pending_requests()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        var attempt = Assert.Single(await h.SignedAsync(parts, A));
        h.Node.ScriptedSends.Enqueue(new NodeResult(SendOutcome.Rejected, "tx type not supported"));
        await parts.Broadcaster.BroadcastAsync(attempt, Ct);
        var request = await h.GetAsync("ref-1");
        Assert.Equal($"the node refused transaction {attempt.Hash}: tx type not supported", request.ErrorMessage);
    }

    [Fact]
    public async Task the_pool_check_runs_once_per_block_or_interval_and_re_sends_only_what_the_node_lost()
    {
        var h = await SenderHarness.NewAsync();
        h.Node.Automine = false;
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        Assert.True(await parts.Broadcaster.BroadcastInOrderAsync(await h.SignedAsync(parts, A, B), Ct));
        h.Node.Drop(1);
        var open = await h.OpenTxsAsync();
        await parts.Broadcaster.CheckPoolAsync(await h.BlockAsync(), open, Ct);
        Assert.Equal(1, h.Node.PoolChecks);
        Assert.Equal(2, h.Node.PoolSize);
        Assert.Equal(3, h.Node.Sent.Count); // two sends, then the dropped one again
        Assert.Equal(open[1].Latest.Hash, h.Node.Sent[^1]);
        await parts.Broadcaster.CheckPoolAsync(await h.BlockAsync(), open, Ct);
        Assert.Equal(1, h.Node.PoolChecks); // same block, within the interval
        h.Time.Advance(h.Options.RebroadcastInterval);
        await parts.Broadcaster.CheckPoolAsync(await h.BlockAsync(), open, Ct);
        Assert.Equal(2, h.Node.PoolChecks);
        Assert.Equal(3, h.Node.Sent.Count); // nothing was lost this time
    }
}
