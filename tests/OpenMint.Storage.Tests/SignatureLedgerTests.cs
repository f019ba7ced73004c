using OpenMint.Core.Refresh;

namespace OpenMint.Storage.Tests;

/// <summary>The refresh signature ledger on both backends: first use wins, once, also when instances race.</summary>
public abstract class SignatureLedgerTests<TBackend>(TBackend backend) : StoreSuite<TBackend>(backend) where TBackend : class, IStoreBackend
{
    [Fact]
    public async Task a_signature_is_used_once_and_two_stores_on_one_database_agree()
    {
        await using var two = await OpenMintStorage.OpenAsync(DatabaseValue, Ct);
        ISignatureLedger a = Store.Signatures, b = two.Signatures;
        var now = DateTimeOffset.UtcNow;
        var signature = "0x" + Guid.NewGuid().ToString("N") + "00";
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? a : b).TryUseAsync(signature, now.AddMinutes(5), now, Ct)));
        Assert.Single(results, r => r);
        Assert.False(await b.TryUseAsync(signature, now.AddMinutes(5), now, Ct));
        Assert.True(await a.TryUseAsync(signature[..^2] + "01", now.AddMinutes(5), now, Ct));
    }

    [Fact]
    public async Task expired_signatures_are_pruned()
    {
        await using var first = await OpenMintStorage.OpenAsync(DatabaseValue, Ct);
        var then = DateTimeOffset.UtcNow.AddHours(-1);
        var old = "0xold-" + Guid.NewGuid().ToString("N");
        Assert.True(await first.Signatures.TryUseAsync(old, then.AddMinutes(5), then, Ct));
        // A fresh ledger prunes on its first call: the expired row goes before the new one is written.
        await using var second = await OpenMintStorage.OpenAsync(DatabaseValue, Ct);
        Assert.True(await second.Signatures.TryUseAsync("0xnew-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.AddMinutes(5), DateTimeOffset.UtcNow, Ct));
        await using var c = await Store.Database.OpenConnectionAsync(Ct);
        Assert.Equal(0L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM refresh_signature WHERE signature = @old", new { old }));
    }
}

public sealed class SqliteSignatureLedgerTests(SqliteBackend backend) : SignatureLedgerTests<SqliteBackend>(backend);

public sealed class PostgresSignatureLedgerTests(PostgresBackend backend) : SignatureLedgerTests<PostgresBackend>(backend);
