using OpenMint.Core;
using OpenMint.Core.Tenancy;
using OpenMint.TestSupport;

namespace OpenMint.Storage.Tests;

/// <summary>A database the store's compliance suites run on, one per test class (Dapper's providers, Wolverine's compliance tests).</summary>
public interface IStoreBackend
{
    /// <summary>A <c>--database</c> value.</summary>
    string DatabaseValue { get; }
}

/// <summary>A fresh SQLite file per test class.</summary>
public sealed class SqliteBackend : IStoreBackend
{
    public string DatabaseValue { get; } = TempSqlite.NewDatabaseValue("store");
}

/// <summary>A fresh PostgreSQL database per test class on the server ./test starts.</summary>
public sealed class PostgresBackend : PostgresFixture, IStoreBackend
{
    public string DatabaseValue => ConnectionString;
}

/// <summary>
/// The base of every area's compliance suite: written once as an abstract generic class, made concrete by a tiny sealed
/// subclass per backend. Tests of a class share its database, so each uses its own names and ids.
/// </summary>
public abstract class StoreSuite<TBackend>(TBackend backend) : IAsyncLifetime, IClassFixture<TBackend>
    where TBackend : class, IStoreBackend
{
    protected static readonly CancellationToken Ct = CancellationToken.None;
    private OpenMintStorage? _store;

    protected string DatabaseValue => backend.DatabaseValue;

    protected OpenMintStorage Store => _store!;

    protected static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A chain, a project and a collection of its own (address 0x<paramref name="address"/>...) for one test.</summary>
    protected async Task<(ChainConfig, Project, Collection)> CollectionAsync(char address, CollectionKind kind, PresetVariant variant)
    {
        var chain = new ChainConfig(Unique("c"), 31337, ["http://127.0.0.1:1"], null, 0, DateTimeOffset.UtcNow);
        await Store.Tenancy.UpsertChainAsync(chain, Ct);
        var project = new Project(UuidV7.New().ToString(), "p", "0x" + new string('a', 40), 1_000_000, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await Store.Tenancy.CreateProjectAsync(project, Ct);
        var collection = await Store.Tenancy.AddCollectionAsync(new Collection(0, chain.Name, "0x" + new string(address, 40), project.Id,
            kind, variant, null, true, DateTimeOffset.UtcNow), Ct);
        return (chain, project, collection);
    }

    public virtual async Task InitializeAsync() => _store = await OpenMintStorage.OpenAsync(DatabaseValue, Ct);

    public virtual async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }
}
