using Dapper;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>The pipeline's store on a real SQLite file: the lease and the write-ahead of signed txs.</summary>
public class PipelineStoreTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;
    private const string Signer = "0x00000000000000000000000000000000000000aa";

    [Fact]
    public async Task one_instance_holds_a_signer_lease_until_it_expires()
    {
        var store = await OpenMintStore.OpenAsync(TempSqlite.NewDatabaseValue("pipeline-store"), Ct);
        var a = await store.TryAcquireLeaseAsync("c", Signer, "a", T0, TimeSpan.FromSeconds(10), Ct);
        Assert.NotNull(a);
        Assert.Null(a.NextNonce);
        Assert.Null(await store.TryAcquireLeaseAsync("c", Signer, "b", T0.AddSeconds(5), TimeSpan.FromSeconds(10), Ct));
        Assert.NotNull(await store.TryAcquireLeaseAsync("c", Signer, "a", T0.AddSeconds(5), TimeSpan.FromSeconds(10), Ct)); // heartbeat
        Assert.Null(await store.TryAcquireLeaseAsync("c", Signer, "b", T0.AddSeconds(12), TimeSpan.FromSeconds(10), Ct));
        Assert.NotNull(await store.TryAcquireLeaseAsync("c", Signer, "b", T0.AddSeconds(16), TimeSpan.FromSeconds(10), Ct));
        Assert.Null(await store.TryAcquireLeaseAsync("c", Signer, "a", T0.AddSeconds(17), TimeSpan.FromSeconds(10), Ct));
        Assert.NotNull(await store.TryAcquireLeaseAsync("c", "0x00000000000000000000000000000000000000bb", "a", T0.AddSeconds(17), TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task signed_txs_are_written_ahead_only_with_the_lease_the_next_nonce_and_unclaimed_requests()
    {
        var store = await OpenMintStore.OpenAsync(TempSqlite.NewDatabaseValue("pipeline-store"), Ct);
        var chain = new ChainConfig("c", 1, ["http://127.0.0.1:1"], null, 0, T0);
        await store.UpsertChainAsync(chain, Ct);
        await store.CreateProjectAsync(new Project("p", "p", "0x" + new string('1', 40), 2000, 5, 30000, 1000, T0), Ct);
        var collection = await store.AddCollectionAsync(new Collection(0, "c", "0x" + new string('c', 40), "p", CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, T0), Ct);
        var assets = Enumerable.Range(1, 4).Select(i => new MintAsset($"r{i}", "0x" + new string('a', 40), null, null, null)).ToList();
        Assert.IsType<MintIntakeOutcome.Accepted>(await store.AcceptMintRequestsAsync(new MintIntake(collection, chain, assets, 1000, 4), Ct));
        var queued = await store.ListQueuedAsync(collection.Id, 100, Ct);
        var ids = queued.Select(q => q.Id).ToList();
        MintBatch Batch(IEnumerable<long> requestIds) => new(collection.Id, collection.Address, MintMethod.ByQuantity, [new MintEntry("0x" + new string('a', 40), requestIds.ToList(), null, null)], 100_000);
        NewAttempt Attempt(int n) => new(AttemptKind.Mint, [(byte)n], "0x" + n.ToString("x64", System.Globalization.CultureInfo.InvariantCulture), 1, 2, 100_000);

        Assert.NotNull(await store.TryAcquireLeaseAsync("c", Signer, "a", T0, TimeSpan.FromMinutes(1), Ct));
        Assert.True(await store.SetNextNonceAsync("c", Signer, "a", 7, Ct));
        // Wrong first nonce, or another instance: nothing is written.
        Assert.Null(await store.RecordTxsAsync("c", Signer, "a", [new NewTx(6, Batch(ids[..2]), Attempt(1))], T0, Ct));
        Assert.Null(await store.RecordTxsAsync("c", Signer, "b", [new NewTx(7, Batch(ids[..2]), Attempt(1))], T0, Ct));

        var recorded = await store.RecordTxsAsync("c", Signer, "a", [new NewTx(7, Batch(ids[..2]), Attempt(1)), new NewTx(8, Batch(ids[2..]), Attempt(2))], T0, Ct);
        Assert.Equal(2, recorded!.Count);
        Assert.Empty(await store.ListQueuedAsync(collection.Id, 100, Ct));
        var open = await store.ListOpenTxsAsync("c", Signer, Ct);
        Assert.Equal(new long[] { 7, 8 }, open.Select(t => t.Nonce));
        Assert.All(open, t => Assert.Null(Assert.Single(t.Attempts).BroadcastAt));
        Assert.Equal(9, (await store.TryAcquireLeaseAsync("c", Signer, "a", T0, TimeSpan.FromMinutes(1), Ct))!.NextNonce);

        // A request already in a batch cannot be claimed again: all or nothing.
        Assert.Null(await store.RecordTxsAsync("c", Signer, "a", [new NewTx(9, Batch(ids[..1]), Attempt(3))], T0, Ct));
        await using var c = await store.Db.OpenConnectionAsync(Ct);
        Assert.Equal(2, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM tx"));
        Assert.Equal(9, (await store.TryAcquireLeaseAsync("c", Signer, "a", T0, TimeSpan.FromMinutes(1), Ct))!.NextNonce);

        // Abandoned (nonce used elsewhere): the requests are queued again.
        await store.AbandonTxAsync(open[0].Id, "nonce 7 was used by another transaction", T0, Ct);
        Assert.Equal(ids[..2], (await store.ListQueuedAsync(collection.Id, 100, Ct)).Select(q => q.Id));
    }
}
