using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using OpenMint.Core.Minting;
using OpenMint.Storage.Minting;

namespace OpenMint.Storage.Sqlite;

/// <summary>SQLite's part: PRAGMAs per connection, WAL, <c>IN</c> lists, no row locks (one writer at a time), json_each intake.</summary>
internal sealed class SqliteDialect(string connectionString) : SqlDialect
{
    /// <summary>How long a statement waits for another connection's write lock inside SQLite: the connection's DefaultTimeout (30 s).</summary>
    private const int BusyTimeoutMs = 30_000;

    private readonly Lock _gate = new();
    private SqliteWalSync? _walSync;
    private SqliteCheckpointer? _checkpointer;

    public override string MigrationsFolder => "sqlite";

    internal override Task<DbConnection> OpenConnectionAsync(CancellationToken ct) => OpenAsync("FULL", ct);

    /// <summary>
    /// NORMAL: the commit returns without syncing the WAL, and the write lock is free again at once; the caller's
    /// <see cref="CommittedAsync"/> then waits for the WAL's fsync, shared with every other commit (<see cref="SqliteWalSync"/>).
    /// </summary>
    internal override Task<DbConnection> OpenWriteConnectionAsync(CancellationToken ct) => OpenAsync("NORMAL", ct);

    internal override long WriteMark(DbConnection connection) => SQLitePCL.raw.sqlite3_total_changes(((SqliteConnection)connection).Handle);

    /// <summary>
    /// A transaction that changed no row wrote nothing to the WAL (as under FULL, whose commit then syncs nothing); it still
    /// waits for the commits being synced, since what it read (and answers) may rest on them.
    /// </summary>
    internal override Task CommittedAsync(DbConnection connection, long mark) =>
        WriteMark(connection) == mark ? WalSync().SettledAsync() : WalSync().SyncAsync();

    private SqliteWalSync WalSync()
    {
        lock (_gate)
        {
            return _walSync ??= NewWalSync(SqliteWalSync.FlushToDisk);
        }
    }

    internal override ValueTask<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken ct) =>
        ValueTask.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: true));

    /// <summary>Tests: syncs the WAL with <paramref name="flush"/> from now on (to hold a sync, or make it fail).</summary>
    internal SqliteWalSync SyncWalWith(Func<string, long> flush)
    {
        lock (_gate)
        {
            _walSync?.Dispose();
            return _walSync = NewWalSync(flush);
        }
    }

    /// <summary>The WAL sync of this database file, with the one checkpointer it asks (under <c>_gate</c>).</summary>
    private SqliteWalSync NewWalSync(Func<string, long> flush)
    {
        _checkpointer ??= new SqliteCheckpointer(connectionString);
        return new SqliteWalSync(new SqliteConnectionStringBuilder(connectionString).DataSource, flush, _checkpointer);
    }

    private async Task<DbConnection> OpenAsync(string synchronous, CancellationToken ct)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        // Per-connection settings: FULL makes every commit durable before it returns (NORMAL: see OpenWriteConnectionAsync).
        // busy_timeout: a writer that finds the write lock taken waits inside SQLite (it retries after 1, 2, 5, 10 ... ms) until
        // the holder commits. Without it Microsoft.Data.Sqlite retries on its own after sleeping 150 ms each time, so a 2 ms
        // pipeline transaction cost the intake writer (and every request of its group) 150 ms.
        // wal_autocheckpoint: write transactions leave checkpoints to SqliteCheckpointer's thread; other connections keep SQLite's default.
        // (Every setting is given on every open: a pooled connection keeps what its last user set.)
        // temp_store=MEMORY on write connections: the statement journal of a savepoint (intake's group and per-request ones, every
        // multi-row statement) stays in memory. By default SQLite spills it to a temp file past 64 KiB: a group of ~100
        // single-asset requests wrote each page it changed there first, two pwrite calls per page, more calls than its WAL
        // frames (BENCHMARKS.md, "Single-asset intake, fifth session"). The journal lives only until the transaction ends. Other
        // connections keep the default, so a large sort of a read may still spill to a file.
        await connection.ExecuteAsync(new CommandDefinition(
            $"PRAGMA synchronous={synchronous}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA wal_autocheckpoint={(synchronous == "NORMAL" ? 0 : 1000)}; " +
            $"PRAGMA temp_store={(synchronous == "NORMAL" ? "MEMORY" : "DEFAULT")};",
            cancellationToken: ct)).ConfigureAwait(false);
        return connection;
    }

    internal override Task BeginMigrationAsync(DbConnection connection, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode=WAL;", cancellationToken: ct));

    internal override Task EndMigrationAsync(DbConnection connection, CancellationToken ct) => Task.CompletedTask;

    internal override string SkipLocked(string? alias = null) => "";

    internal override string ForUpdate => "";

    internal override string ForShare => "";

    internal override string In(string column, string parameter) => $"{column} IN (SELECT value FROM json_each({parameter}))";

    internal override object List<T>(IEnumerable<T> values) => System.Text.Json.JsonSerializer.Serialize(values);

    internal override string NoIndex(string column) => "+" + column;

    internal override object Bool(bool value) => value ? 1 : 0;

    /// <summary>The checked token ids as a JSON array, serialised on the caller's thread; rows and reference ids when the writer needs them (<see cref="SqliteIntakeJson"/>).</summary>
    internal override object? PrepareIntake(MintRequestRecord[] records, string[] referenceIds, string[] checkedTokenIds) =>
        new SqliteIntakeJson(records, referenceIds, JsonArray(checkedTokenIds));

    internal override async Task<IntakeStatements> OpenIntakeAsync(TimeProvider time, CancellationToken ct)
    {
        var connection = await OpenWriteConnectionAsync(ct).ConfigureAwait(false);
        // Six indexes on mint_request: a larger page cache keeps their hot pages in memory.
        await connection.ExecuteAsync(new CommandDefinition("PRAGMA cache_size = -65536", cancellationToken: ct)).ConfigureAwait(false);
        return new SqliteIntakeStatements(connection, time);
    }

    public override ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _walSync?.Dispose();
            _checkpointer?.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>[reference, owner, token, by_quantity, amount, metadata] per row.</summary>
    internal static string RowsJson(MintRequestRecord[] records) => SqliteJson.Array(records.Length * 256, w =>
    {
        foreach (var r in records)
        {
            w.WriteStartArray();
            w.WriteStringValue(r.ReferenceId);
            w.WriteStringValue(r.OwnerAddress);
            w.WriteStringValue(r.TokenId);
            w.WriteNumberValue(r.ByQuantity ? 1 : 0);
            w.WriteStringValue(r.Amount);
            w.WriteStringValue(r.MetadataJson);
            w.WriteEndArray();
        }
    });

    internal static string JsonArray(string[] values) => SqliteJson.Array(values.Length * 16 + 2, w =>
    {
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }
    });
}

/// <summary>JSON arrays that SQLite unpacks with json_each: the rows, the reference ids, the checked token ids.</summary>
/// <remarks>
/// The checked token ids are serialised on the caller's thread (the group path looks them up). The rows and reference ids
/// only on the writer's thread when a request goes in one by one: the group path binds the rows by position
/// (<see cref="SqliteRowInsert"/>) and reads no reference ids, so most requests never need them.
/// </remarks>
internal sealed class SqliteIntakeJson(MintRequestRecord[] records, string[] referenceIds, string tokenIds)
{
    private string? _rows;
    private string? _referenceIds;

    public string Rows => _rows ??= SqliteDialect.RowsJson(records);

    public string ReferenceIds => _referenceIds ??= SqliteDialect.JsonArray(referenceIds);

    public string TokenIds { get; } = tokenIds;
}
