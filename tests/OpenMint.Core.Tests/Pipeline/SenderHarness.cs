using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>A real SQLite store with one chain, project and ERC721 V1 collection, a scripted node, and a clock moved by hand.</summary>
internal sealed class SenderHarness
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private int _refs;

    public required OpenMintStore Store { get; init; }
    public required ChainConfig Chain { get; init; }
    public required Collection Collection { get; init; }
    public FakeChain Node { get; } = new();
    // Starts at the real clock: intake stamps requests with it.
    public ManualTime Time { get; } = new(DateTimeOffset.UtcNow);
    public PipelineOptions Options { get; } = new() { BumpAfter = TimeSpan.FromSeconds(30), RebroadcastInterval = TimeSpan.FromSeconds(5), MaxBatchWait = TimeSpan.Zero };

    public static async Task<SenderHarness> NewAsync(int confirmations = 0)
    {
        var store = await OpenMintStore.OpenAsync(TempSqlite.NewDatabaseValue("pipeline"), Ct);
        var chain = new ChainConfig("fake", 1, ["http://127.0.0.1:1"], "env:UNUSED", confirmations, DateTimeOffset.UnixEpoch);
        await store.UpsertChainAsync(chain, Ct);
        await store.CreateProjectAsync(new Project("p1", "p", "0x" + new string('1', 40), 2000, 5, 30000, 1000, DateTimeOffset.UnixEpoch), Ct);
        var collection = await store.AddCollectionAsync(new Collection(0, "fake", "0x" + new string('c', 40), "p1", CollectionKind.Erc721, PresetVariant.Erc721V1, null, true, DateTimeOffset.UnixEpoch), Ct);
        return new SenderHarness { Store = store, Chain = chain, Collection = collection };
    }

    public SenderContext Context(string instance = "i1") =>
        new(Chain, Node, instance, Node, Store, Options, Time, NullLogger.Instance, new CrashPoints(null));

    public ChainSender Sender(string instance = "i1") => new(Context(instance), Store);

    public async Task<List<string>> AcceptAsync(params string[] owners)
    {
        var assets = owners.Select(o => new MintAsset($"ref-{++_refs}", o, null, null, null)).ToList();
        var outcome = await Store.AcceptMintRequestsAsync(new MintIntake(Collection, Chain, assets, 1_000_000, assets.Count), Ct);
        Assert.IsType<MintIntakeOutcome.Accepted>(outcome);
        Time.CatchUp(DateTimeOffset.UtcNow);
        return assets.Select(a => a.ReferenceId).ToList();
    }

    public async Task<MintRequestRecord> GetAsync(string referenceId) => (await Store.GetMintRequestAsync(Collection.Id, referenceId, Ct))!;

    public async Task<long> CountAsync(string sql)
    {
        await using var c = await Store.Db.OpenConnectionAsync(Ct);
        return await c.ExecuteScalarAsync<long>(sql);
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var c = await Store.Db.OpenConnectionAsync(Ct);
        return (await c.ExecuteScalarAsync<T>(sql))!;
    }
}
