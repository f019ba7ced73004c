using Dapper;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>The whole sender (all parts composed) against a scripted node and a real SQLite store.</summary>
public class ChainSenderTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static Task<SenderHarness> NewAsync() => SenderHarness.NewAsync();

    private const string A = "0x000000000000000000000000000000000000000a";
    private const string B = "0x000000000000000000000000000000000000000b";

    [Fact]
    public async Task requests_of_many_callers_share_one_transaction_and_succeed_with_ids_from_the_logs()
    {
        var h = await NewAsync();
        var refs = (await h.AcceptAsync(A, B, A)).Concat(await h.AcceptAsync(B, A)).ToList();
        var sender = h.Sender();
        Assert.True(await sender.TickAsync(Ct)); // plan, preflight, sign, store, broadcast (automine)
        Assert.True(await sender.TickAsync(Ct)); // confirm and reconcile
        Assert.Single(h.Node.Sent);
        var records = new List<MintRequestRecord>();
        foreach (var r in refs)
        {
            records.Add(await h.GetAsync(r));
        }
        Assert.All(records, r => Assert.Equal(MintStatus.Succeeded, r.Status));
        Assert.Single(records.Select(r => r.TransactionHash).Distinct());
        Assert.Equal(5, records.Select(r => r.TokenId).Distinct().Count());
        Assert.All(records, r => Assert.NotNull(r.ActivityId));
        // Entry order: all of A first (its oldest request came first), then B.
        var first = System.Numerics.BigInteger.Pow(2, 128);
        Assert.Equal((first + 0).ToString(), records[0].TokenId);
        Assert.Equal((first + 1).ToString(), records[2].TokenId);
        Assert.Equal((first + 2).ToString(), records[4].TokenId);
        Assert.Equal((first + 3).ToString(), records[1].TokenId);
        Assert.Equal(5, await h.CountAsync("SELECT COUNT(*) FROM token"));
        Assert.Equal(5, await h.CountAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));
        Assert.Equal(B, (await h.Store.Minting.GetTokenAsync(h.Collection.Id, records[1].TokenId!, Ct))!.OwnerAddress);
    }

    [Fact]
    public async Task a_signed_attempt_whose_broadcast_timed_out_is_sent_again_with_the_same_bytes_and_mints_once()
    {
        var h = await NewAsync();
        var refs = await h.AcceptAsync(A, A);
        h.Node.FailSends = 1;
        var sender = h.Sender();
        await sender.TickAsync(Ct);
        Assert.Equal(0, h.Node.Mined);
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM tx_attempt WHERE broadcast_at IS NULL"));
        await sender.TickAsync(Ct); // recover: same bytes
        await sender.TickAsync(Ct); // confirm
        Assert.Equal(2, h.Node.MintedTokens);
        Assert.Equal(1, h.Node.Mined);
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(refs[0])).Status);
    }

    [Fact]
    public async Task a_new_instance_takes_the_lease_after_expiry_and_recovers_what_the_crashed_one_signed()
    {
        var h = await NewAsync();
        var refs = await h.AcceptAsync(A, B);
        h.Node.FailSends = 1; // the first instance "dies" right after writing the attempt
        await h.Sender("dead").TickAsync(Ct);
        var next = h.Sender("next");
        Assert.False(await next.TickAsync(Ct)); // lease still held
        h.Time.Advance(h.Options.LeaseDuration + TimeSpan.FromSeconds(1));
        Assert.True(await next.TickAsync(Ct));
        await next.TickAsync(Ct);
        Assert.Equal(2, h.Node.MintedTokens);
        Assert.Single(h.Node.Sent.Distinct());
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(refs[1])).Status);
    }

    [Fact]
    public async Task a_tx_not_mined_in_time_is_replaced_at_higher_fees_with_the_same_nonce()
    {
        var h = await NewAsync();
        var refs = await h.AcceptAsync(A);
        h.Node.Automine = false;
        var sender = h.Sender();
        await sender.TickAsync(Ct);
        h.Time.Advance(h.Options.BumpAfter + TimeSpan.FromSeconds(1));
        await sender.TickAsync(Ct);
        Assert.Equal(2, h.Node.Sent.Distinct().Count());
        Assert.Equal(1, h.Node.PoolSize);
        h.Node.Mine();
        await sender.TickAsync(Ct);
        var r = await h.GetAsync(refs[0]);
        Assert.Equal(MintStatus.Succeeded, r.Status);
        Assert.Equal(h.Node.Sent[^1], r.TransactionHash);
        Assert.Equal(1, h.Node.MintedTokens);
    }

    [Fact]
    public async Task while_the_txs_in_flight_fill_the_next_block_the_queue_is_planned_once_per_head()
    {
        var h = await NewAsync();
        await h.AcceptAsync(A);
        h.Node.Automine = false;
        h.Node.ExtraGas = 29_950_000; // its limit is the 30M block's: it fills the next block alone
        var sender = h.Sender();
        await sender.TickAsync(Ct);
        Assert.Single(h.Node.Sent);
        h.Node.ExtraGas = 0;
        var later = await h.AcceptAsync(B);
        var estimates = h.Node.Estimates;
        await sender.TickAsync(Ct); // same head: nothing planned, nothing estimated
        await sender.TickAsync(Ct);
        Assert.Equal(estimates, h.Node.Estimates);
        Assert.Single(h.Node.Sent);
        h.Node.Mine(); // a new head (the big tx mined): planned again, and the later request goes
        await sender.TickAsync(Ct);
        Assert.Equal(2, h.Node.Sent.Count);
        h.Node.Mine();
        await sender.TickAsync(Ct);
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(later[0])).Status);
    }

    [Fact]
    public async Task a_replacement_is_re_estimated_and_raises_the_gas_limit_when_needed_but_never_lowers_it()
    {
        var h = await NewAsync();
        await h.AcceptAsync(A);
        h.Node.Automine = false;
        var sender = h.Sender();
        await sender.TickAsync(Ct);
        h.Node.ExtraGas = 200_000; // costlier now
        h.Time.Advance(h.Options.BumpAfter + TimeSpan.FromSeconds(1));
        await sender.TickAsync(Ct);
        h.Node.ExtraGas = 0; // cheaper again: the limit stays
        h.Time.Advance(h.Options.BumpAfter + TimeSpan.FromSeconds(1));
        await sender.TickAsync(Ct);
        await using var c = await h.Store.Database.OpenConnectionAsync(Ct);
        var limits = (await c.QueryAsync<long>("SELECT gas_limit FROM tx_attempt ORDER BY id")).ToList();
        Assert.Equal(3, limits.Count);
        Assert.Equal((long)Math.Ceiling(100_000 * h.Options.GasLimitMargin), limits[0]);
        Assert.Equal((long)Math.Ceiling(300_000 * h.Options.GasLimitMargin), limits[1]);
        Assert.Equal(limits[1], limits[2]);
    }

    [Fact]
    public async Task after_five_submissions_the_nonce_is_cancelled_and_then_the_assets_fail()
    {
        var h = await NewAsync();
        var refs = await h.AcceptAsync(A);
        h.Node.Automine = false;
        var sender = h.Sender();
        await sender.TickAsync(Ct);
        for (var i = 0; i < 5; i++)
        {
            h.Time.Advance(h.Options.BumpAfter + TimeSpan.FromSeconds(1));
            await sender.TickAsync(Ct);
        }
        Assert.Equal(5, await h.CountAsync("SELECT COUNT(*) FROM tx_attempt WHERE kind = 'mint'"));
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM tx_attempt WHERE kind = 'cancel'"));
        var pending = await h.GetAsync(refs[0]);
        Assert.Equal(MintStatus.Pending, pending.Status);
        Assert.StartsWith(ChainSender.MaxSubmissionsMessage, pending.ErrorMessage);
        h.Node.Mine();
        await sender.TickAsync(Ct);
        var failed = await h.GetAsync(refs[0]);
        Assert.Equal(MintStatus.Failed, failed.Status);
        Assert.Equal("Exceeded a maximum of 5 submissions", failed.ErrorMessage);
        Assert.Equal(0, h.Node.MintedTokens);
    }

    [Fact]
    public async Task on_a_chain_with_a_block_interval_a_lone_request_goes_out_just_before_the_next_block_and_later_ones_join_it()
    {
        var h = await NewAsync();
        h.Options.MaxBatchWait = TimeSpan.FromSeconds(10);
        h.Node.MineEvery(TimeSpan.FromSeconds(2), h.Time);
        var sender = h.Sender();
        // Blocks at +2, +4, +6 s come with nothing of ours in flight: the sender learns the chain's 2 s schedule.
        for (var i = 0; i < 12; i++)
        {
            await sender.TickAsync(Ct);
            h.Time.Advance(TimeSpan.FromMilliseconds(500));
        }
        await sender.TickAsync(Ct);
        var head = (await h.BlockAsync()).Number;
        var refs = await h.AcceptAsync(A);
        h.Time.Advance(TimeSpan.FromMilliseconds(500));
        await sender.TickAsync(Ct);
        Assert.Empty(h.Node.Sent); // the next block is 1.5 s away: it still makes it later
        refs.AddRange(await h.AcceptAsync(B));
        h.Time.Advance(TimeSpan.FromMilliseconds(500));
        await sender.TickAsync(Ct);
        Assert.Single(h.Node.Sent); // the last tick before the block: both requests in one tx
        Assert.False(sender.WantsQuickTick); // it is mined with the block, not at once
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await sender.TickAsync(Ct);
        await sender.TickAsync(Ct);
        Assert.Equal(head + 1, h.Node.BlockOf(h.Node.Sent[0]));
        Assert.Equal(2, h.Node.MintedTokens);
        foreach (var r in refs)
        {
            Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(r)).Status);
        }
    }

    [Fact]
    public async Task on_an_automine_chain_each_lone_request_goes_out_at_the_next_tick_however_long_batches_may_wait()
    {
        var h = await NewAsync();
        h.Options.MaxBatchWait = TimeSpan.FromSeconds(10);
        h.Node.Clock = h.Time;
        var sender = h.Sender();
        for (var i = 1; i <= 4; i++)
        {
            var refs = await h.AcceptAsync(i % 2 == 0 ? A : B);
            await sender.TickAsync(Ct);
            Assert.Equal(i, h.Node.Sent.Count); // blocks come only after our txs: waiting would gain nothing
            Assert.True(sender.WantsQuickTick); // mined already: reconcile soon
            await sender.TickAsync(Ct);
            Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(refs[0])).Status);
            h.Time.Advance(TimeSpan.FromSeconds(2));
            await sender.TickAsync(Ct);
        }
    }

    [Fact]
    public async Task a_dropped_tx_is_detected_and_sent_again()
    {
        var h = await NewAsync();
        var refs = await h.AcceptAsync(A);
        h.Node.Automine = false;
        var sender = h.Sender();
        await sender.TickAsync(Ct);
        h.Node.Drop(0);
        h.Time.Advance(h.Options.RebroadcastInterval + TimeSpan.FromSeconds(1));
        await sender.TickAsync(Ct);
        Assert.Equal(1, h.Node.PoolSize);
        h.Node.Mine();
        await sender.TickAsync(Ct);
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(refs[0])).Status);
    }

    [Fact]
    public async Task txs_that_left_the_pool_at_a_new_block_are_sent_again_on_the_next_tick_without_waiting_for_the_pool_check()
    {
        var h = await NewAsync();
        h.Options.RebroadcastInterval = TimeSpan.FromHours(1); // only the new-block check can find them
        h.Options.PlanWindow = 1; // one request per tx: three txs, nonces 0..2
        var refs = await h.AcceptAsync(A, B, A);
        h.Node.Automine = false;
        var sender = h.Sender();
        for (var i = 0; i < 3 && h.Node.PoolSize < 3; i++)
        {
            await sender.TickAsync(Ct);
        }
        Assert.Equal(3, h.Node.PoolSize);
        h.Node.Drop(1);
        h.Node.Drop(2);
        await sender.TickAsync(Ct); // same block: nothing is checked yet
        Assert.Equal(1, h.Node.PoolSize);
        h.Node.Mine(); // nonce 0 is mined; 1 and 2 are gone, as when a builder skips a tx and drops the later nonces
        await sender.TickAsync(Ct);
        Assert.Equal(2, h.Node.PoolSize);
        h.Node.Mine();
        await sender.TickAsync(Ct);
        foreach (var r in refs)
        {
            Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(r)).Status);
        }
        Assert.Equal(3, h.Node.MintedTokens);
    }

    [Fact]
    public async Task a_preflight_revert_fails_only_the_offending_assets_and_sends_the_rest()
    {
        var h = await NewAsync();
        var refs = await h.AcceptAsync(A, B, A, B);
        h.Node.RevertFor = owner => owner == B ? "ERC721: mint to a blocked address" : null;
        var sender = h.Sender();
        await sender.TickAsync(Ct);
        await sender.TickAsync(Ct);
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(refs[0])).Status);
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(refs[2])).Status);
        var failed = await h.GetAsync(refs[1]);
        Assert.Equal(MintStatus.Failed, failed.Status);
        Assert.Equal("transaction failed to build: execution reverted: ERC721: mint to a blocked address", failed.ErrorMessage);
        Assert.Null(failed.TransactionHash);
        Assert.Equal(2, h.Node.MintedTokens);
        Assert.Equal(2, await h.CountAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'failed'"));
    }

    [Fact]
    public async Task insufficient_funds_pauses_the_signer_with_a_visible_reason_and_resumes_when_funded()
    {
        var h = await NewAsync();
        var refs = await h.AcceptAsync(A);
        h.Node.NoFunds = true;
        var sender = h.Sender();
        await sender.TickAsync(Ct);
        await sender.TickAsync(Ct);
        var paused = await h.GetAsync(refs[0]);
        Assert.Equal(MintStatus.Pending, paused.Status);
        Assert.Contains("insufficient funds", paused.ErrorMessage);
        var late = await h.AcceptAsync(B);
        await sender.TickAsync(Ct);
        Assert.Contains("insufficient funds", (await h.GetAsync(late[0])).ErrorMessage);
        h.Node.NoFunds = false;
        await sender.TickAsync(Ct);
        await sender.TickAsync(Ct);
        await sender.TickAsync(Ct);
        var done = await h.GetAsync(refs[0]);
        Assert.Equal(MintStatus.Succeeded, done.Status);
        Assert.Null(done.ErrorMessage);
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(late[0])).Status);
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM tx WHERE nonce = 0"));
    }

    [Fact]
    public async Task an_rpc_outage_is_shown_on_pending_requests_and_minting_resumes_when_the_node_answers()
    {
        var h = await NewAsync();
        var refs = await h.AcceptAsync(A);
        h.Node.Down = true;
        var sender = h.Sender();
        await sender.TickAsync(Ct);
        h.Time.Advance(h.Options.RpcOutageNoticeAfter + TimeSpan.FromSeconds(1));
        await sender.TickAsync(Ct);
        var waiting = await h.GetAsync(refs[0]);
        Assert.Equal(MintStatus.Pending, waiting.Status);
        Assert.Contains("unreachable", waiting.ErrorMessage);
        h.Node.Down = false;
        await sender.TickAsync(Ct);
        await sender.TickAsync(Ct);
        var done = await h.GetAsync(refs[0]);
        Assert.Equal(MintStatus.Succeeded, done.Status);
        Assert.Null(done.ErrorMessage);
    }
}
