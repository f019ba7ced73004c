using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Core.Tests.Pipeline;

internal sealed record SenderParts(NonceLease Nonces, SignerStatus Status, Broadcaster Broadcaster, FeeBumper Bumper, Confirmer Confirmer, BatchPreparer Preparer);

/// <summary>A real SQLite store with one chain, project and ERC721 V1 collection, a scripted node, and a clock moved by hand.</summary>
internal sealed class SenderHarness
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private int _refs;

    public required OpenMintStorage Store { get; init; }
    public required ChainConfig Chain { get; init; }
    public required Collection Collection { get; init; }
    public FakeChain Node { get; } = new();
    // Starts at the real clock: intake stamps requests with it.
    public ManualTime Time { get; } = new(DateTimeOffset.UtcNow);
    public PipelineOptions Options { get; } = new() { BumpAfter = TimeSpan.FromSeconds(30), RebroadcastInterval = TimeSpan.FromSeconds(5), MaxBatchWait = TimeSpan.Zero };

    public static async Task<SenderHarness> NewAsync(int confirmations = 0)
    {
        var store = await OpenMintStorage.OpenAsync(TempSqlite.NewDatabaseValue("pipeline"), Ct);
        var chain = new ChainConfig("fake", 1, ["http://127.0.0.1:1"], "env:UNUSED", confirmations, DateTimeOffset.UnixEpoch);
        await store.Tenancy.UpsertChainAsync(chain, Ct);
        await store.Tenancy.CreateProjectAsync(new Project("p1", "p", "0x" + new string('1', 40), 2000, 5, 30000, 1000, DateTimeOffset.UnixEpoch), Ct);
        var collection = await store.Tenancy.AddCollectionAsync(new Collection(0, "fake", "0x" + new string('c', 40), "p1", CollectionKind.Erc721, PresetVariant.Erc721V1, null, true, DateTimeOffset.UnixEpoch), Ct);
        return new SenderHarness { Store = store, Chain = chain, Collection = collection };
    }

    public SenderContext Context(string instance = "i1") =>
        new(Chain, Node, instance, Node, Store.Pipeline, Options, Time, NullLogger.Instance, new CrashPoints(null));

    public ChainSender Sender(string instance = "i1") => new(Context(instance), Store.Tenancy);

    /// <summary>The sender's parts wired as <see cref="ChainSender"/> wires them, to drive one at a time.</summary>
    public SenderParts Parts(string instance = "i1")
    {
        var context = Context(instance);
        var collections = new CollectionCache(Store.Tenancy);
        var nonces = new NonceLease(context);
        var status = new SignerStatus(context);
        var broadcaster = new Broadcaster(context, nonces, status);
        return new SenderParts(nonces, status, broadcaster, new FeeBumper(context, broadcaster, collections), new Confirmer(context, collections),
            new BatchPreparer(context, collections, status));
    }

    /// <summary>Takes the lease and reconciles the nonce with the node, as the first tick does.</summary>
    public async Task<SignerLease> LeaseAsync(SenderParts parts)
    {
        var lease = await parts.Nonces.AcquireAsync(Ct);
        Assert.NotNull(lease);
        await parts.Nonces.SyncAsync(lease, Ct);
        Assert.False(parts.Nonces.SyncNeeded);
        return lease;
    }

    /// <summary>Every queued request of the collection as one by-quantity batch, estimated at <paramref name="gas"/>.</summary>
    public async Task<PreparedTx> PreparedAsync(long gas = 100_000)
    {
        var queued = await Store.Pipeline.ListQueuedAsync(Collection.Id, 1000, Ct);
        var mints = queued.Select(r => new QueuedMint(r.Id, r.OwnerAddress.ToLowerInvariant(), null, 1)).ToList();
        return new PreparedTx(Collection, BatchPlanner.Build(Collection, MintMethod.ByQuantity, mints), gas);
    }

    /// <summary>Accepts one request per owner and writes it ahead as its own tx (consecutive nonces); nothing is broadcast.</summary>
    public async Task<List<TxAttemptRecord>> SignedAsync(SenderParts parts, params string[] owners)
    {
        var attempts = new List<TxAttemptRecord>();
        foreach (var owner in owners)
        {
            await AcceptAsync(owner);
            var written = await parts.Nonces.WriteAheadAsync([await PreparedAsync()], new Fees(1_000_000_000, 3_000_000_000), Ct);
            Assert.NotNull(written);
            attempts.AddRange(written);
        }
        return attempts;
    }

    public async Task<IReadOnlyList<OpenTx>> OpenTxsAsync() => await Store.Pipeline.ListOpenTxsAsync(Chain.Name, Node.Address, Ct);

    public async Task<BlockInfo> BlockAsync() => await Node.GetLatestBlockAsync(Ct);

    public async Task<List<string>> AcceptAsync(params string[] owners)
    {
        var assets = owners.Select(o => new MintAsset($"ref-{++_refs}", o, null, null, null)).ToList();
        var outcome = await Store.Minting.AcceptMintRequestsAsync(new MintIntake(Collection, Chain, assets, 1_000_000, assets.Count), Ct);
        Assert.IsType<MintIntakeOutcome.Accepted>(outcome);
        Time.CatchUp(DateTimeOffset.UtcNow);
        return assets.Select(a => a.ReferenceId).ToList();
    }

    public async Task<MintRequestRecord> GetAsync(string referenceId) => (await Store.Minting.GetMintRequestAsync(Collection.Id, referenceId, Ct))!;

    public async Task<long> CountAsync(string sql)
    {
        await using var c = await Store.Database.OpenConnectionAsync(Ct);
        return await c.ExecuteScalarAsync<long>(sql);
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var c = await Store.Database.OpenConnectionAsync(Ct);
        return (await c.ExecuteScalarAsync<T>(sql))!;
    }
}
