using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>The signer's notice: a closed type inside, the same texts outside.</summary>
public class SignerStatusTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public void notices_read_exactly_as_callers_see_them()
    {
        Assert.Equal("minting on chain anvil is paused: the minter 0xab has insufficient funds for gas (balance 12 wei); fund it and minting resumes",
            SignerNotice.InsufficientFunds("anvil", "0xab", 12).Message);
        Assert.Equal("chain anvil is unreachable since 2026-01-02T03:04:05.000000Z (connection refused); minting resumes when it answers",
            SignerNotice.ChainUnreachable("anvil", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), "connection refused").Message);
    }

    [Fact]
    public void a_stored_reason_converts_back_to_its_kind_with_the_same_text()
    {
        var outage = SignerNotice.ChainUnreachable("anvil", DateTimeOffset.UnixEpoch, "timeout");
        Assert.Equal(outage, SignerNotice.FromStored("anvil", outage.Message));
        var funds = SignerNotice.InsufficientFunds("anvil", "0xab", 0);
        Assert.Equal(funds, SignerNotice.FromStored("anvil", funds.Message));
        Assert.IsType<SignerNotice.Paused>(SignerNotice.FromStored("other", outage.Message)); // another chain's words are not this chain's outage
        Assert.Null(SignerNotice.FromStored("anvil", null));
    }

    [Fact]
    public async Task an_outage_notice_shows_after_the_notice_delay_keeps_its_first_text_and_clears_on_the_first_answer()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        await h.AcceptAsync("0x000000000000000000000000000000000000000a");
        await parts.Status.RpcFailedAsync(new ChainUnavailableException("refused"), Ct);
        Assert.Null((await h.GetAsync("ref-1")).ErrorMessage);
        h.Time.Advance(h.Options.RpcOutageNoticeAfter);
        await parts.Status.RpcFailedAsync(new ChainUnavailableException("refused"), Ct);
        var first = (await h.GetAsync("ref-1")).ErrorMessage;
        Assert.StartsWith("chain fake is unreachable since ", first);
        Assert.EndsWith("(refused); minting resumes when it answers", first);
        parts.Status.Load(await h.ScalarAsync<string>("SELECT paused_reason FROM signer_lease"));
        Assert.IsType<SignerNotice.Unreachable>(parts.Status.Current);
        h.Time.Advance(TimeSpan.FromSeconds(5));
        await parts.Status.RpcFailedAsync(new ChainUnavailableException("timeout"), Ct);
        Assert.Equal(first, (await h.GetAsync("ref-1")).ErrorMessage);
        await parts.Status.RpcAnsweredAsync(Ct);
        Assert.Null(parts.Status.Current);
        Assert.Null((await h.GetAsync("ref-1")).ErrorMessage);
    }

    [Fact]
    public async Task an_outage_does_not_replace_a_pause_for_funds()
    {
        var h = await SenderHarness.NewAsync();
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        h.Node.NoFunds = true;
        await parts.Status.PauseForFundsAsync(Ct);
        var paused = SignerNotice.InsufficientFunds("fake", h.Node.Address, 0).Message;
        h.Time.Advance(h.Options.RpcOutageNoticeAfter);
        await parts.Status.RpcFailedAsync(new ChainUnavailableException("refused"), Ct);
        Assert.Equal(paused, await h.ScalarAsync<string>("SELECT paused_reason FROM signer_lease"));
        await parts.Status.RpcAnsweredAsync(Ct);
        Assert.IsType<SignerNotice.Paused>(parts.Status.Current);
    }
}
