using OpenMint.Core.Refresh;
using OpenMint.TestSupport;

namespace OpenMint.Storage.Tests;

/// <summary>The refresh signature ledger on both backends: first use wins, once, also when instances race.</summary>
public abstract class SignatureLedgerTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    protected abstract string DatabaseValue { get; }

    [Fact]
    public async Task a_signature_is_used_once_and_two_stores_on_one_database_agree()
    {
        var one = await OpenMintStore.OpenAsync(DatabaseValue, Ct);
        var two = await OpenMintStore.OpenAsync(DatabaseValue, Ct);
        try
        {
            ISignatureLedger a = new SignatureLedgerStore(one.Db), b = new SignatureLedgerStore(two.Db);
            var now = DateTimeOffset.UtcNow;
            var signature = "0x" + Guid.NewGuid().ToString("N") + "00";
            var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? a : b).TryUseAsync(signature, now.AddMinutes(5), now, Ct)));
            Assert.Single(results, r => r);
            Assert.False(await b.TryUseAsync(signature, now.AddMinutes(5), now, Ct));
            Assert.True(await a.TryUseAsync(signature[..^2] + "01", now.AddMinutes(5), now, Ct));
        }
        finally
        {
            await one.Db.DisposeAsync();
            await two.Db.DisposeAsync();
        }
    }

    [Fact]
    public async Task expired_signatures_are_pruned()
    {
        var store = await OpenMintStore.OpenAsync(DatabaseValue, Ct);
        try
        {
            var ledger = new SignatureLedgerStore(store.Db);
            var then = DateTimeOffset.UtcNow.AddHours(-1);
            Assert.True(await ledger.TryUseAsync("0xold", then.AddMinutes(5), then, Ct));
            // A minute later than the first call's prune: this call prunes the expired row first.
            var fresh = new SignatureLedgerStore(store.Db);
            Assert.True(await fresh.TryUseAsync("0xnew", DateTimeOffset.UtcNow.AddMinutes(5), DateTimeOffset.UtcNow, Ct));
            await using var c = await store.Db.OpenConnectionAsync(Ct);
            Assert.Equal(0L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM refresh_signature WHERE signature = '0xold'"));
        }
        finally
        {
            await store.Db.DisposeAsync();
        }
    }
}

public sealed class SqliteSignatureLedgerTests : SignatureLedgerTests
{
    private readonly string _database = TempSqlite.NewDatabaseValue("ledger");

    protected override string DatabaseValue => _database;
}

public sealed class PostgresSignatureLedgerTests(PostgresFixture postgres) : SignatureLedgerTests, IClassFixture<PostgresFixture>
{
    protected override string DatabaseValue => postgres.ConnectionString;
}
