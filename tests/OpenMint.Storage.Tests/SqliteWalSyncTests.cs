using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using OpenMint.Storage.Sqlite;

namespace OpenMint.Storage.Tests;

/// <summary>
/// SQLite write transactions commit with synchronous=NORMAL and are answered only after an fsync of the WAL that started after
/// their commit (<see cref="SqliteWalSync"/>): FULL's durability, with the fsync outside the write lock and shared by commits.
/// </summary>
public sealed class SqliteWalSyncTests(SqliteBackend backend) : StoreSuite<SqliteBackend>(backend)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task write_transactions_commit_with_normal_and_every_other_connection_with_full()
    {
        var inside = await Store.Database.InTransactionAsync(async (c, tx) =>
            (await c.ExecuteScalarAsync<int>("PRAGMA synchronous", transaction: tx), await c.ExecuteScalarAsync<int>("PRAGMA wal_autocheckpoint", transaction: tx),
             await c.ExecuteScalarAsync<int>("PRAGMA temp_store", transaction: tx)), Ct);
        await using var plain = await Store.Database.OpenConnectionAsync(Ct);
        Assert.Equal(1, inside.Item1); // NORMAL: the commit does not sync, InTransactionAsync waits for the WAL's fsync after it
        Assert.Equal(0, inside.Item2); // checkpoints on SqliteCheckpointer's thread, not inside this commit
        Assert.Equal(2, inside.Item3); // MEMORY: savepoints journal pages in memory, not through a temp file
        Assert.Equal(2, await plain.ExecuteScalarAsync<int>("PRAGMA synchronous")); // FULL
        Assert.Equal(1000, await plain.ExecuteScalarAsync<int>("PRAGMA wal_autocheckpoint"));
        Assert.Equal(0, await plain.ExecuteScalarAsync<int>("PRAGMA temp_store")); // the default: a reader's large sort may spill to a file
    }

    [Fact]
    public async Task a_request_is_committed_before_the_sync_but_answered_only_after_it()
    {
        var held = new HeldFlush();
        Dialect.SyncWalWith(held.Flush);
        var (chain, _, collection) = await CollectionAsync('d', CollectionKind.Erc721, PresetVariant.Erc721V2);

        held.Hold();
        var intake = Store.Minting.AcceptMintRequestsAsync(new MintIntake(collection, chain,
            [new MintAsset("synced", "0x00000000000000000000000000000000000000aa", "9", null, null)], 1_000_000, 1), Ct);
        Assert.True(await held.Entered.WaitAsync(Long));
        // The write lock is free while the WAL syncs: the row is readable and another writer can commit.
        await Eventually(async () => await Store.Minting.GetMintRequestAsync(collection.Id, "synced", Ct) is not null);
        await using (var other = await Store.Database.OpenConnectionAsync(Ct))
        await using (var tx = await other.BeginTransactionAsync(Ct))
        {
            await tx.CommitAsync(Ct);
        }
        await Task.Delay(300);
        Assert.False(intake.IsCompleted);

        held.Release();
        Assert.IsType<MintIntakeOutcome.Accepted>(await intake.WaitAsync(Long));
    }

    [Fact]
    public async Task a_transaction_returns_only_after_its_sync_and_a_read_only_one_waits_for_syncs_in_flight()
    {
        var held = new HeldFlush();
        Dialect.SyncWalWith(held.Flush);
        var table = "t_" + Guid.NewGuid().ToString("N")[..8];
        await using (var c = await Store.Database.OpenConnectionAsync(Ct))
        {
            await c.ExecuteAsync($"CREATE TABLE {table} (v INTEGER)");
        }

        held.Hold();
        var write = Store.Database.InTransactionAsync((c, tx) => c.ExecuteAsync($"INSERT INTO {table} VALUES (1)", transaction: tx), Ct);
        Assert.True(await held.Entered.WaitAsync(Long));
        var readOnly = Store.Database.InTransactionAsync((c, tx) => c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}", transaction: tx), Ct);
        await Task.Delay(300);
        Assert.False(write.IsCompleted);
        Assert.False(readOnly.IsCompleted); // it saw the row being synced: its answer waits for that sync too

        held.Release();
        Assert.Equal(1, await write.WaitAsync(Long));
        Assert.Equal(1, await readOnly.WaitAsync(Long));
        // Idle again: a read-only transaction needs no sync.
        var syncs = held.Calls;
        await Store.Database.InTransactionAsync((c, tx) => c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}", transaction: tx), Ct);
        Assert.Equal(syncs, held.Calls);
    }

    [Fact]
    public async Task commits_that_arrive_during_an_fsync_share_the_next_one()
    {
        var held = new HeldFlush();
        using var sync = new SqliteWalSync(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N")), held.Flush);

        held.Hold();
        var first = sync.SyncAsync();
        Assert.True(await held.Entered.WaitAsync(Long));
        var later = Enumerable.Range(0, 10).Select(_ => sync.SyncAsync()).ToList();
        await Task.Delay(200);
        Assert.False(first.IsCompleted);
        Assert.DoesNotContain(later, t => t.IsCompleted);

        held.Release();
        await first.WaitAsync(Long);
        await Task.WhenAll(later).WaitAsync(Long);
        Assert.Equal((2L, 11L), sync.Counts); // the ten that waited during the first fsync were made durable by one more
        Assert.True(sync.SettledAsync().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task a_failed_fsync_fails_its_commits_and_every_later_one()
    {
        var calls = 0;
        using var sync = new SqliteWalSync(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N")), _ =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new IOException("EIO");
            }
            return 0;
        });

        var failed = await Assert.ThrowsAsync<IOException>(() => sync.SyncAsync().WaitAsync(Long));
        Assert.Equal("EIO", failed.InnerException!.Message);
        // A later fsync may report success for pages the kernel dropped after the failure: never trust one again.
        await Assert.ThrowsAsync<IOException>(() => sync.SyncAsync().WaitAsync(Long));
        await Assert.ThrowsAsync<IOException>(() => sync.SettledAsync().WaitAsync(Long));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task the_real_fsync_syncs_an_existing_wal_and_treats_a_missing_one_as_checkpointed()
    {
        var path = Path.Combine(Path.GetTempPath(), "walsync-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(path + "-wal", new byte[4096], Ct);
        try
        {
            using var sync = new SqliteWalSync(path);
            await sync.SyncAsync().WaitAsync(Long);
            File.Delete(path + "-wal");
            await sync.SyncAsync().WaitAsync(Long);
            Assert.Equal(2L, sync.Counts.Syncs);
        }
        finally
        {
            File.Delete(path + "-wal");
        }
    }

    [Fact]
    public async Task a_sync_that_finds_the_wal_grown_asks_for_a_checkpoint_which_backfills_the_database_file()
    {
        var table = "t_" + Guid.NewGuid().ToString("N")[..8];
        await using (var c = await Store.Database.OpenConnectionAsync(Ct))
        {
            await c.ExecuteAsync($"CREATE TABLE {table} (v BLOB)");
        }
        // Written through a write connection (no automatic checkpoint): 3 MB of pages wait in the WAL.
        await Store.Database.InTransactionAsync((c, tx) => c.ExecuteAsync(
            $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700) INSERT INTO {table} SELECT randomblob(4000) FROM n", transaction: tx), Ct);
        var path = Path.GetFullPath(DatabaseValue["sqlite:".Length..]);
        var before = new FileInfo(path).Length;
        using var checkpointer = new SqliteCheckpointer(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = path }.ToString());
        using var sync = new SqliteWalSync(path, p => SqliteWalSync.FlushToDisk(p) + SqliteCheckpointer.WalBytes, checkpointer);

        await sync.SyncAsync().WaitAsync(Long);
        await Eventually(() => Task.FromResult(checkpointer.Checkpoints > 0));
        // The pages moved from the WAL into the database file.
        Assert.True(new FileInfo(path).Length - before > 2_500_000, $"the database file grew from {before} to {new FileInfo(path).Length} bytes");
    }

    [Fact]
    public async Task only_frames_not_yet_checkpointed_count_so_a_long_wal_after_a_checkpoint_asks_for_none()
    {
        var table = "t_" + Guid.NewGuid().ToString("N")[..8];
        await using (var c = await Store.Database.OpenConnectionAsync(Ct))
        {
            await c.ExecuteAsync($"CREATE TABLE {table} (v BLOB)");
        }
        var path = Path.GetFullPath(DatabaseValue["sqlite:".Length..]);
        // 1,200 pages through a write connection (no automatic checkpoint): more than the threshold.
        await Store.Database.InTransactionAsync((c, tx) => c.ExecuteAsync(
            $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) INSERT INTO {table} SELECT randomblob(4000) FROM n", transaction: tx), Ct);
        // The commit's sync found more than the threshold waiting and asked the store's checkpointer, which copies it all back.
        await Eventually(() => Task.FromResult(SqliteWalSync.UncheckpointedBytes(path + "-shm") == 0));
        // A small commit after it: the WAL starts again from its beginning, and its file keeps its length.
        await Store.Database.InTransactionAsync((c, tx) => c.ExecuteAsync($"INSERT INTO {table} VALUES (x'01')", transaction: tx), Ct);
        Assert.True(new FileInfo(path + "-wal").Length > SqliteCheckpointer.WalBytes);
        Assert.InRange(SqliteWalSync.UncheckpointedBytes(path + "-shm")!.Value, 1, 10 * (4096 + 24));

        using var checkpointer = new SqliteCheckpointer(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = path }.ToString());
        using var sync = new SqliteWalSync(path, SqliteWalSync.FlushToDisk, checkpointer);
        await sync.SyncAsync().WaitAsync(Long);
        await Task.Delay(200);
        Assert.Equal(0, checkpointer.Checkpoints); // the file's length asked for one after every sync
    }

    [Fact]
    public void a_wal_index_header_that_is_torn_missing_or_of_another_version_reads_as_unknown()
    {
        var shm = Path.Combine(Path.GetTempPath(), "walindex-" + Guid.NewGuid().ToString("N") + "-shm");
        try
        {
            Assert.Null(SqliteWalSync.UncheckpointedBytes(shm)); // missing
            var header = new byte[136];
            void Put(int offset, uint value) => BitConverter.TryWriteBytes(header.AsSpan(offset), value);
            foreach (var copy in new[] { 0, 48 })
            {
                Put(copy, 3007000);
                BitConverter.TryWriteBytes(header.AsSpan(copy + 14), (ushort)4096);
                Put(copy + 16, 1500); // mxFrame
            }
            Put(96, 400); // nBackfill
            File.WriteAllBytes(shm, header);
            Assert.Equal(1100L * (4096 + 24), SqliteWalSync.UncheckpointedBytes(shm));
            Put(48 + 16, 1501); // a writer is between the two copies
            File.WriteAllBytes(shm, header);
            Assert.Null(SqliteWalSync.UncheckpointedBytes(shm));
            Put(48 + 16, 1500);
            Put(0, 3007001);
            Put(48, 3007001);
            File.WriteAllBytes(shm, header);
            Assert.Null(SqliteWalSync.UncheckpointedBytes(shm));
        }
        finally
        {
            File.Delete(shm);
        }
    }

    private SqliteDialect Dialect => (SqliteDialect)Store.Database.Dialect;

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + Long;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not met in time");
            await Task.Delay(50);
        }
    }

    /// <summary>The real fsync, held at its start while <see cref="Hold"/> is in force.</summary>
    private sealed class HeldFlush
    {
        private readonly ManualResetEventSlim _open = new(true);
        private int _calls;

        public SemaphoreSlim Entered { get; } = new(0);

        public int Calls => Volatile.Read(ref _calls);

        /// <summary>Holds the next fsync; <see cref="Entered"/> counts only fsyncs from now on.</summary>
        public void Hold()
        {
            _open.Reset();
            while (Entered.Wait(0))
            {
            }
        }

        public void Release() => _open.Set();

        public long Flush(string path)
        {
            Interlocked.Increment(ref _calls);
            Entered.Release();
            _open.Wait();
            return SqliteWalSync.FlushToDisk(path);
        }
    }
}
