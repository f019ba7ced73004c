using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>Replacements: when, at what price, and the cancel, against a scripted node and a real SQLite store.</summary>
public class FeeBumperTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private const string A = "0x000000000000000000000000000000000000000a";

    private static async Task<(SenderHarness H, SenderParts Parts)> SentAsync()
    {
        var h = await SenderHarness.NewAsync();
        h.Node.Automine = false;
        var parts = h.Parts();
        await h.LeaseAsync(parts);
        Assert.True(await parts.Broadcaster.BroadcastInOrderAsync(await h.SignedAsync(parts, A), Ct));
        return (h, parts);
    }

    [Fact]
    public async Task a_tx_is_due_for_replacement_after_bump_after_or_at_once_when_the_node_asked_for_a_new_price()
    {
        var (h, parts) = await SentAsync();
        var tx = Assert.Single(await h.OpenTxsAsync());
        Assert.False(parts.Bumper.IsDue(tx));
        h.Time.Advance(h.Options.BumpAfter);
        Assert.True(parts.Bumper.IsDue(tx));
    }

    [Fact]
    public async Task a_replacement_keeps_the_nonce_and_raises_tip_and_fee_cap_by_at_least_ten_percent()
    {
        var (h, parts) = await SentAsync();
        var tx = Assert.Single(await h.OpenTxsAsync());
        Assert.True(await parts.Bumper.ReplaceAsync(tx, await h.BlockAsync(), Ct));
        var after = Assert.Single(await h.OpenTxsAsync());
        Assert.Equal(tx.Nonce, after.Nonce);
        Assert.Equal(2, after.Attempts.Count);
        Assert.True(after.Latest.MaxPriorityFeePerGas * 10 >= tx.Latest.MaxPriorityFeePerGas * 11);
        Assert.True(after.Latest.MaxFeePerGas * 10 >= tx.Latest.MaxFeePerGas * 11);
        Assert.Equal(1, h.Node.PoolSize);
        Assert.Equal(after.Latest.Hash, h.Node.Sent[^1]);
    }

    [Fact]
    public async Task a_tx_that_cannot_be_re_priced_under_the_max_fee_is_kept_and_its_requests_say_why()
    {
        var (h, parts) = await SentAsync();
        h.Options.MaxFeePerGas = "3000000000"; // the tx already pays 3 gwei: +10 % does not fit
        var tx = Assert.Single(await h.OpenTxsAsync());
        Assert.False(await parts.Bumper.ReplaceAsync(tx, await h.BlockAsync(), Ct));
        Assert.Single(Assert.Single(await h.OpenTxsAsync()).Attempts);
        Assert.Equal($"transaction {tx.Latest.Hash} (nonce 0) is not mined and cannot be re-priced: the next price exceeds Pipeline:MaxFeePerGas (3000000000 wei)",
            (await h.GetAsync("ref-1")).ErrorMessage);
    }

    [Fact]
    public async Task after_max_submissions_the_replacement_is_a_zero_value_self_transfer_that_takes_the_nonce()
    {
        var (h, parts) = await SentAsync();
        h.Options.MaxSubmissions = 1;
        var tx = Assert.Single(await h.OpenTxsAsync());
        Assert.True(await parts.Bumper.ReplaceAsync(tx, await h.BlockAsync(), Ct));
        var cancel = Assert.Single(await h.OpenTxsAsync()).Latest;
        Assert.Equal(AttemptKind.Cancel, cancel.Kind);
        Assert.Equal(21_000, cancel.GasLimit);
        Assert.StartsWith(ChainSender.MaxSubmissionsMessage + "; cancelling nonce 0", (await h.GetAsync("ref-1")).ErrorMessage);
    }
}
