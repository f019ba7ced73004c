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

    public virtual async Task InitializeAsync() => _store = await OpenMintStorage.OpenAsync(DatabaseValue, Ct);

    public virtual async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }
}
