using System.Numerics;
using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>The lease and nonces part against a scripted node and a real SQLite store.</summary>
public class NonceLeaseTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private const string A = "0x000000000000000000000000000000000000000a";

    [Fact]
    public async Task the_next_nonce_is_the_chains_pending_count_when_someone_else_used_the_key()
    {
        var h = await SenderHarness.NewAsync();
        for (var n = 0; n < 3; n++)
        {
            // Another wallet with the same key: three self-transfers the store knows nothing about.
            var signed = h.Node.Sign(1, n, 1_000_000_000, 3_000_000_000, 21_000, h.Node.Address, BigInteger.Zero, []);
            Assert.Equal(SendOutcome.Accepted, (await h.Node.SendRawTransactionAsync(signed.Raw, Ct)).Outcome);
        }
        var parts = h.Parts();
        var lease = await parts.Nonces.AcquireAsync(Ct);
        Assert.NotNull(lease);
        Assert.Null(lease.NextNonce);
        Assert.True(parts.Nonces.SyncNeeded);
        await parts.Nonces.SyncAsync(lease, Ct);
        Assert.False(parts.Nonces.SyncNeeded);
        Assert.Equal(3, parts.Nonces.NextNonce);
        Assert.Equal(3, await h.CountAsync("SELECT next_nonce FROM signer_lease"));
    }

    [Fact]
    public async Task another_instance_gets_no_lease_until_the_holders_lease_expires()
    {
        var h = await SenderHarness.NewAsync();
        Assert.NotNull(await h.Parts("first").Nonces.AcquireAsync(Ct));
        var second = h.Parts("second").Nonces;
        Assert.Null(await second.AcquireAsync(Ct));
        h.Time.Advance(h.Options.LeaseDuration + TimeSpan.FromSeconds(1));
        Assert.NotNull(await second.AcquireAsync(Ct));
        Assert.True(second.SyncNeeded);
    }

    [Fact]
    public async Task txs_written_ahead_get_consecutive_nonces_and_are_stored_before_anything_is_sent()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        var attempts = await h.SignedAsync(parts, A, A);
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Null(a.BroadcastAt));
        Assert.Empty(h.Node.Sent);
        Assert.Equal(2, parts.Nonces.NextNonce);
        Assert.Equal(new long[] { 0, 1 }, (await h.OpenTxsAsync()).Select(t => t.Nonce));
        Assert.Equal(2, await h.CountAsync("SELECT next_nonce FROM signer_lease"));
    }

    [Fact]
    public async Task a_write_ahead_the_store_refuses_writes_nothing_and_asks_for_a_nonce_sync()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        // The stored next nonce moved under this sender (it believes 0).
        Assert.True(await h.Store.Pipeline.SetNextNonceAsync(h.Chain.Name, h.Node.Address, "i1", 5, Ct));
        await h.AcceptAsync(A);
        Assert.Null(await parts.Nonces.WriteAheadAsync([await h.PreparedAsync()], new Fees(1, 3), Ct));
        Assert.True(parts.Nonces.SyncNeeded);
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM tx"));
        Assert.Equal(0, parts.Nonces.NextNonce);
    }

    [Fact]
    public async Task lost_txs_are_looked_for_on_taking_the_lease_and_when_the_chains_nonce_goes_back_at_most_every_rebroadcast_interval()
    {
        var h = await SenderHarness.NewAsync();
        var nonces = h.Parts().Nonces;
        await nonces.AcquireAsync(Ct);
        Assert.True(nonces.ObserveLatest(5));
        nonces.LostTxsChecked();
        Assert.False(nonces.ObserveLatest(5));
        Assert.False(nonces.ObserveLatest(3)); // went back, but it was just checked
        h.Time.Advance(h.Options.RebroadcastInterval);
        Assert.True(nonces.ObserveLatest(3));
        nonces.LostTxsChecked();
        h.Time.Advance(h.Options.RebroadcastInterval);
        Assert.False(nonces.ObserveLatest(5)); // back where it was
    }
}
