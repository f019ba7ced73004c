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
        var (chain, project, collection) = await CollectionAsync('c', CollectionKind.Erc721, PresetVariant.Erc721V2);
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

    [Fact]
    public async Task a_group_of_150_requests_held_behind_the_lock_is_stored_in_one_commit_with_every_field_as_given()
    {
        var (chain, project, collection) = await CollectionAsync('e', CollectionKind.Erc1155, PresetVariant.Erc1155);
        // 150 requests: 2 x 64 + 2 x 8 + 6 x 1 rows in the positional inserts; one with two assets.
        MintAsset[] Assets(int i) => i == 7
            ? [new("g-7", Owner(7), "7", "3", null), new("g-7b", Owner(8), "1007", "1", """{"name":"b"}""")]
            : [new($"g-{i}", Owner(i), $"{i}", $"{i % 5 + 1}", i % 2 == 0 ? $$"""{"name":"Token {{i}}","image":"https://example.invalid/{{i}}.png"}""" : null)];

        await using var holder = await Store.Database.OpenConnectionAsync(Ct);
        var lockTx = await holder.BeginTransactionAsync(Ct);
        var intakes = Enumerable.Range(0, 150).Select(i => Store.Minting.AcceptMintRequestsAsync(new MintIntake(collection, chain, Assets(i), 1_000_000, 1), Ct)).ToList();
        await Task.Delay(300);
        await lockTx.CommitAsync(Ct);
        await lockTx.DisposeAsync();

        Assert.All(await Task.WhenAll(intakes).WaitAsync(TimeSpan.FromSeconds(60)), o => Assert.IsType<MintIntakeOutcome.Accepted>(o));
        await using var c = await Store.Database.OpenConnectionAsync(Ct);
        var rows = (await c.QueryAsync<(long Id, string Reference, string Owner, string Token, long ByQuantity, string Amount, string? Metadata, string Status, string CreatedAt, string UpdatedAt, string ProjectId)>(
            "SELECT id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at, project_id FROM mint_request WHERE collection_id = @id ORDER BY id",
            new { id = collection.Id })).ToList();
        var expected = Enumerable.Range(0, 150).SelectMany(Assets).ToList();
        Assert.Equal(expected.Count, rows.Count);
        Assert.Equal(rows.Count, rows[^1].Id - rows[0].Id + 1); // one id block, in queue order
        Assert.Equal(expected.Select(a => (a.ReferenceId, a.OwnerAddress, a.TokenId, a.Amount, a.MetadataJson)),
            rows.Select(r => (r.Reference, r.Owner, (string?)r.Token, (string?)r.Amount, r.Metadata)));
        Assert.All(rows, r => Assert.Equal((0L, "pending", project.Id, r.CreatedAt), (r.ByQuantity, r.Status, r.ProjectId, r.UpdatedAt)));
    }

    [Fact]
    public async Task the_positional_insert_stores_73_rows_in_three_statement_sizes_and_skips_a_taken_reference()
    {
        var (chain, project, collection) = await CollectionAsync('f', CollectionKind.Erc721, PresetVariant.Erc721V2);
        var now = DateTimeOffset.UtcNow;
        Minting.IntakeWork Work(int first, int count) => new(new MintIntake(collection, chain, [], 1_000_000, 1),
            Enumerable.Range(first, count).Select(i => new MintRequestRecord(0, collection.Id, project.Id, $"p-{i}", Owner(i), i % 2 == 0 ? null : $"{i}",
                i % 2 == 0, null, null, MintStatus.Pending, null, null, null, null, now, now)).ToArray(), [], [], null, new(), Ct);

        await using var c = (Microsoft.Data.Sqlite.SqliteConnection)await Store.Database.OpenConnectionAsync(Ct);
        var next = await c.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(id), 0) + 1 FROM mint_request");
        using var insert = new Sqlite.SqliteRowInsert(c);
        await using (var tx = await c.BeginTransactionAsync(Ct))
        {
            Assert.Equal(73, insert.Insert([Work(0, 70), Work(70, 3)], new Minting.RowIds(next, null))); // 64 + 8 + 1
            await tx.CommitAsync(Ct);
        }
        await using (var tx = await c.BeginTransactionAsync(Ct))
        {
            Assert.Equal(1, insert.Insert([Work(72, 2)], new Minting.RowIds(next + 73, null))); // p-72 exists: skipped
            await tx.CommitAsync(Ct);
        }
        var stored = (await c.QueryAsync<(long Id, string Reference, string? Token, long ByQuantity)>(
            "SELECT id, reference_id, token_id, by_quantity FROM mint_request WHERE collection_id = @id ORDER BY id", new { id = collection.Id })).ToList();
        Assert.Equal(Enumerable.Range(0, 74).Select(i => $"p-{i}"), stored.Select(r => r.Reference));
        Assert.Equal(Enumerable.Range(0, 73).Select(i => next + i).Append(next + 74), stored.Select(r => r.Id));
        Assert.All(stored, r => Assert.Equal(r.ByQuantity == 1, r.Token is null));
    }

    private static string Owner(int i) => "0x" + i.ToString("x40", System.Globalization.CultureInfo.InvariantCulture);
}
