using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>
/// One wallet among several of a chain (a sender whose context says the chain has two wallets), against a scripted node
/// and a real SQLite store: stuck, it takes no new batches; without funds, it gives its unsent txs back and takes
/// batches again once funded. The chain's only wallet keeps both (nobody else could mint them).
/// </summary>
public class WalletSenderTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private const string A = "0x000000000000000000000000000000000000000a";
    private const string B = "0x000000000000000000000000000000000000000b";

    private static ChainSender Sender(SenderHarness h, int wallets) => new(h.Context() with { Wallets = wallets }, h.Store.Tenancy);

    [Fact]
    public async Task a_wallet_of_several_stuck_past_wallet_stuck_after_takes_no_new_batch_but_the_only_wallet_does()
    {
        var h = await SenderHarness.NewAsync();
        h.Node.Automine = false;
        h.Options.BumpAfter = TimeSpan.FromMinutes(30);
        h.Options.WalletStuckAfter = TimeSpan.FromSeconds(60);
        var sender = Sender(h, 2);
        await h.AcceptAsync(A);
        await sender.TickAsync(Ct);
        Assert.Single(h.Node.Sent);

        h.Time.Advance(TimeSpan.FromSeconds(61));
        var later = await h.AcceptAsync(B);
        await sender.TickAsync(Ct);
        await sender.TickAsync(Ct);
        Assert.Single(h.Node.Sent); // stuck: B stays in the queue for the other wallet
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM mint_request WHERE status = 'pending' AND batch_id IS NULL"));

        var only = Sender(h, 1);
        await only.TickAsync(Ct);
        Assert.Equal(2, h.Node.Sent.Count); // the chain's only wallet sends it behind the stuck nonce
        h.Node.Mine();
        for (var i = 0; i < 5 && (await h.GetAsync(later[0])).Status == MintStatus.Pending; i++)
        {
            await only.TickAsync(Ct);
        }
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(later[0])).Status);
    }

    [Fact]
    public async Task a_wallet_of_several_without_funds_gives_back_its_unsent_txs_and_mints_again_once_funded()
    {
        var h = await SenderHarness.NewAsync();
        h.Node.NoFunds = true;
        var sender = Sender(h, 2);
        var refs = await h.AcceptAsync(A, B);
        await sender.TickAsync(Ct); // signed, written ahead, refused for funds: paused
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM tx"));
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM signer_lease WHERE paused_reason IS NOT NULL"));

        await sender.TickAsync(Ct); // gives it back: the requests are queued again for the other wallets
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM tx"));
        Assert.Equal(2, await h.CountAsync("SELECT COUNT(*) FROM mint_request WHERE status = 'pending' AND batch_id IS NULL"));
        Assert.Equal(0, await h.CountAsync("SELECT next_nonce FROM signer_lease"));
        await sender.TickAsync(Ct);
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM tx")); // still no funds: it takes nothing

        h.Node.NoFunds = false;
        for (var i = 0; i < 4 && (await h.GetAsync(refs[1])).Status == MintStatus.Pending; i++)
        {
            await sender.TickAsync(Ct);
        }
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(refs[0])).Status);
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(refs[1])).Status);
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM signer_lease WHERE paused_reason IS NOT NULL"));
        Assert.Equal(1, await h.CountAsync("SELECT next_nonce FROM signer_lease")); // nonce 0 used once, by the new tx
    }

    [Fact]
    public async Task the_only_wallet_without_funds_keeps_its_stored_tx_and_sends_it_once_funded()
    {
        var h = await SenderHarness.NewAsync();
        h.Node.NoFunds = true;
        var sender = Sender(h, 1);
        var refs = await h.AcceptAsync(A);
        await sender.TickAsync(Ct);
        await sender.TickAsync(Ct);
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM tx WHERE state = 'pending'"));
        h.Node.NoFunds = false;
        await sender.TickAsync(Ct);
        await sender.TickAsync(Ct);
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(refs[0])).Status);
    }
}
