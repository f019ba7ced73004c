using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Tests;

/// <summary>
/// SQLite connections wait for another connection's write lock inside SQLite (busy_timeout), so intake's group commit waits as
/// long as a pipeline transaction holds the lock and no longer (Microsoft.Data.Sqlite's own retry slept 150 ms per try).
/// </summary>
public sealed class SqliteLockWaitTests(SqliteBackend backend) : StoreSuite<SqliteBackend>(backend)
{
    [Fact]
    public async Task every_connection_waits_for_the_lock_inside_sqlite_and_commits_with_fsync()
    {
        await using var c = await Store.Database.OpenConnectionAsync(Ct);
        Assert.Equal(30_000, await c.ExecuteScalarAsync<int>("PRAGMA busy_timeout"));
        Assert.Equal(2, await c.ExecuteScalarAsync<int>("PRAGMA synchronous")); // FULL: durability is unchanged
    }

    [Fact]
    public async Task intake_waits_while_another_writer_holds_the_lock_and_is_accepted_after_its_commit()
    {
        var chain = new ChainConfig(Unique("c"), 31337, ["http://127.0.0.1:1"], null, 0, DateTimeOffset.UtcNow);
        await Store.Tenancy.UpsertChainAsync(chain, Ct);
        var project = new Project(UuidV7.New().ToString(), "p", "0x" + new string('a', 40), 1_000_000, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await Store.Tenancy.CreateProjectAsync(project, Ct);
        var collection = await Store.Tenancy.AddCollectionAsync(new Collection(0, chain.Name, "0x" + new string('c', 40), project.Id,
            CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, DateTimeOffset.UtcNow), Ct);
        var asset = new MintAsset("held", "0x00000000000000000000000000000000000000aa", "7", null, null);

        await using var holder = await Store.Database.OpenConnectionAsync(Ct);
        var lockTx = await holder.BeginTransactionAsync(Ct); // BEGIN IMMEDIATE: the write lock, as a pipeline transaction takes it
        var intake = Store.Minting.AcceptMintRequestsAsync(new MintIntake(collection, chain, [asset], 1_000_000, 1), Ct);
        await Task.Delay(500);
        Assert.False(intake.IsCompleted); // it cannot commit while the lock is held, and it does not fail either
        await lockTx.CommitAsync(Ct);
        await lockTx.DisposeAsync();

        Assert.IsType<MintIntakeOutcome.Accepted>(await intake.WaitAsync(TimeSpan.FromSeconds(60)));
        var stored = await Store.Minting.GetMintRequestAsync(collection.Id, "held", Ct);
        Assert.Equal(MintStatus.Pending, stored!.Status);
    }
}
