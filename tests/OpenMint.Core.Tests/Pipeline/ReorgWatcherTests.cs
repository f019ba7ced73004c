using System.Numerics;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>
/// Reorgs deeper than the confirmation depth, after the txs were reconciled: the whole sender (with its reorg watcher)
/// against a scripted node that can replace its last blocks, and a real SQLite store.
/// </summary>
public class ReorgWatcherTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly BigInteger First = BigInteger.Pow(2, 128);
    private const string A = "0x000000000000000000000000000000000000000a";
    private const string B = "0x000000000000000000000000000000000000000b";

    /// <summary>Three requests in one by-quantity tx, mined and reconciled with confirmations 1.</summary>
    private static async Task<(SenderHarness H, ChainSender Sender, List<string> Refs)> ReconciledAsync()
    {
        var h = await SenderHarness.NewAsync(confirmations: 1);
        var refs = await h.AcceptAsync(A, B, A);
        var sender = h.Sender();
        await sender.TickAsync(Ct); // sent, mined at once (automine)
        h.Node.Mine();
        await sender.TickAsync(Ct); // one block deep: reconciled
        foreach (var r in refs)
        {
            Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(r)).Status);
        }
        return (h, sender, refs);
    }

    private static async Task TicksAsync(SenderHarness h, ChainSender sender, int ticks)
    {
        for (var i = 0; i < ticks; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            await sender.TickAsync(Ct);
        }
    }

    private static async Task<List<string?>> TokenIdsAsync(SenderHarness h, IEnumerable<string> refs)
    {
        var ids = new List<string?>();
        foreach (var r in refs)
        {
            ids.Add((await h.GetAsync(r)).TokenId);
        }
        return ids;
    }

    [Fact]
    public async Task a_reconciled_tx_dropped_by_a_deep_reorg_is_sent_again_and_its_requests_get_the_ids_of_the_new_receipt_with_one_event_each()
    {
        var (h, sender, refs) = await ReconciledAsync();
        var hash = (await h.GetAsync(refs[0])).TransactionHash;
        Assert.Equal([(First).ToString(), (First + 1).ToString(), (First + 2).ToString()], await TokenIdsAsync(h, [refs[0], refs[2], refs[1]]));

        h.Node.Reorg(depth: 2, foreignMints: 5); // deeper than confirmations; someone else mints 5 tokens first
        Assert.Null(await h.Node.GetReceiptAsync(hash!, Ct));
        await TicksAsync(h, sender, 2); // the bytes are sent again and mined (automine), not yet deep enough
        Assert.Equal((First).ToString(), (await h.GetAsync(refs[0])).TokenId);
        h.Node.Mine();
        await TicksAsync(h, sender, 1);

        Assert.Equal([(First + 5).ToString(), (First + 6).ToString(), (First + 7).ToString()], await TokenIdsAsync(h, [refs[0], refs[2], refs[1]]));
        foreach (var r in refs)
        {
            var row = await h.GetAsync(r);
            Assert.Equal((MintStatus.Succeeded, hash), (row.Status, row.TransactionHash)); // the same signed bytes
        }
        Assert.Equal(6, await h.CountAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));
        var corrected = await h.ScalarAsync<string>($"SELECT payload FROM mint_event WHERE mint_request_id = {(await h.GetAsync(refs[1])).Id} ORDER BY seq DESC LIMIT 1");
        Assert.Contains($"\"token_id\":\"{First + 7}\"", corrected, StringComparison.Ordinal);
        Assert.Equal(3, await h.CountAsync("SELECT COUNT(*) FROM token"));
        Assert.Equal(0, await h.CountAsync($"SELECT COUNT(*) FROM token WHERE token_id = '{First}'"));
        Assert.Equal(B, (await h.Store.Minting.GetTokenAsync(h.Collection.Id, (First + 7).ToString(), Ct))!.OwnerAddress);
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM tx WHERE state = 'done' AND mined_block_hash IS NOT NULL"));
    }

    [Fact]
    public async Task a_tx_mined_again_in_another_block_with_the_same_ids_moves_its_block_and_writes_no_event()
    {
        var (h, sender, refs) = await ReconciledAsync();
        var before = await h.ScalarAsync<string>("SELECT mined_block_hash FROM tx");
        h.Node.Reorg(depth: 2, backToPool: true); // the node keeps it and mines it again in the first new block
        h.Node.Mine();
        await TicksAsync(h, sender, 2);

        var after = await h.ScalarAsync<string>("SELECT mined_block_hash FROM tx");
        Assert.NotEqual(before, after);
        Assert.Equal((await h.Node.GetReceiptAsync((await h.GetAsync(refs[0])).TransactionHash!, Ct))!.BlockHash, after);
        Assert.Equal([(First).ToString(), (First + 2).ToString(), (First + 1).ToString()], await TokenIdsAsync(h, refs));
        Assert.Equal(3, await h.CountAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));
        Assert.Single(h.Node.Sent); // nothing re-sent: the node had it
    }

    [Fact]
    public async Task a_nonce_taken_by_another_tx_after_a_deep_reorg_queues_the_requests_again_and_they_are_minted_once_never_failed()
    {
        var (h, sender, refs) = await ReconciledAsync();
        h.Node.Reorg(depth: 2, nonceTakenElsewhere: true);
        await TicksAsync(h, sender, Confirmer.MissesBeforeAbandon - 1);
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM tx WHERE state = 'abandoned'")); // not before five lookups...
        await TicksAsync(h, sender, 1);
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM tx WHERE state = 'abandoned'")); // ...spanning `confirmations` new blocks
        h.Node.Mine();
        await TicksAsync(h, sender, 1);

        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM tx WHERE state = 'abandoned'"));
        Assert.Equal(3, await h.CountAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'pending' AND payload IS NOT NULL"));
        await TicksAsync(h, sender, 1); // planned and sent again (a new nonce)
        h.Node.Mine();
        await TicksAsync(h, sender, 1);

        foreach (var r in refs)
        {
            Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(r)).Status);
        }
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'failed'"));
        Assert.Equal(2, await h.CountAsync("SELECT COUNT(*) FROM tx WHERE state = 'done'") + await h.CountAsync("SELECT COUNT(*) FROM tx WHERE state = 'abandoned'"));
        Assert.Equal(3, h.Node.MintedTokens); // minted once on the final chain
        Assert.Equal(3, await h.CountAsync("SELECT COUNT(*) FROM token"));
    }

    [Fact]
    public async Task a_tx_that_reverts_when_mined_again_after_a_deep_reorg_queues_its_requests_again_instead_of_failing_them()
    {
        var (h, sender, refs) = await ReconciledAsync();
        var hash = (await h.GetAsync(refs[0])).TransactionHash;
        h.Node.MinedRevert = "ERC721: token already minted";
        h.Node.Reorg(depth: 2);
        await TicksAsync(h, sender, 1); // re-sent: mined again, reverts
        h.Node.Mine();
        await TicksAsync(h, sender, 1);

        Assert.All(await Task.WhenAll(refs.Select(h.GetAsync)), r =>
        {
            Assert.Equal(MintStatus.Pending, r.Status);
            Assert.Null(r.TokenId);
            Assert.Equal($"transaction {hash} was reorganised out of the chain and it was mined again as {hash} and reverted; these assets are minted again", r.ErrorMessage);
        });
        h.Node.MinedRevert = null;
        await TicksAsync(h, sender, 1);
        h.Node.Mine();
        await TicksAsync(h, sender, 2);
        Assert.All(await Task.WhenAll(refs.Select(h.GetAsync)), r => Assert.Equal((MintStatus.Succeeded, (string?)null), (r.Status, r.ErrorMessage)));
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'failed'"));
    }

    [Fact]
    public async Task once_its_window_is_verified_each_new_head_costs_one_block_read_and_changes_nothing()
    {
        var (h, sender, refs) = await ReconciledAsync();
        await TicksAsync(h, sender, 1);
        for (var i = 0; i < 5; i++)
        {
            h.Node.Mine();
            var reads = h.Node.BlockReads;
            await TicksAsync(h, sender, 1);
            Assert.Equal(reads + 1, h.Node.BlockReads);
        }
        Assert.Equal(3, await h.CountAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));
        Assert.Single(h.Node.Sent);
        Assert.Equal(MintStatus.Succeeded, (await h.GetAsync(refs[0])).Status);
    }

    [Fact]
    public async Task the_watcher_is_off_with_a_window_of_zero_blocks()
    {
        var h = await SenderHarness.NewAsync(confirmations: 1);
        h.Options.ReorgWatchBlocks = 0;
        var refs = await h.AcceptAsync(A);
        var sender = h.Sender();
        await sender.TickAsync(Ct);
        h.Node.Mine();
        await sender.TickAsync(Ct);
        var reads = h.Node.BlockReads;
        h.Node.Reorg(depth: 2, backToPool: true, foreignMints: 1);
        await TicksAsync(h, sender, 3);
        Assert.Equal(reads, h.Node.BlockReads);
        Assert.Equal(First.ToString(), (await h.GetAsync(refs[0])).TokenId); // not re-read
    }
}
