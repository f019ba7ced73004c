using System.Data.Common;
using OpenMint.Core.Minting;
using OpenMint.Storage.Minting;

namespace OpenMint.Storage;

/// <summary>
/// What differs between SQLite and PostgreSQL, and nothing else: every area store writes its SQL once against this
/// (one shared SQL base with a thin part per database, as Wolverine keeps Wolverine.RDBMS beside Wolverine.Sqlite and
/// Wolverine.Postgresql). The two implementations live in <c>Sqlite/</c> and <c>Postgres/</c>.
/// </summary>
public abstract class SqlDialect : IAsyncDisposable
{
    /// <summary>"sqlite" or "postgres": the folder of this dialect's numbered scripts under Migrations/.</summary>
    public abstract string MigrationsFolder { get; }

    /// <summary>Opens a connection with this dialect's per-connection settings applied.</summary>
    internal abstract Task<DbConnection> OpenConnectionAsync(CancellationToken ct);

    /// <summary>
    /// Opens a connection for write transactions whose every commit is followed by <see cref="CommittedAsync"/> before anyone
    /// acts on it (SQLite: commits without syncing, see <see cref="Sqlite.SqliteWalSync"/>).
    /// </summary>
    internal virtual Task<DbConnection> OpenWriteConnectionAsync(CancellationToken ct) => OpenConnectionAsync(ct);

    /// <summary>Taken on a write connection right after BEGIN; given back to <see cref="CommittedAsync"/> after the commit.</summary>
    internal virtual long WriteMark(DbConnection connection) => 0;

    /// <summary>
    /// Completes once the transaction just committed on <paramref name="connection"/> (begun at <paramref name="mark"/>) is
    /// durable. PostgreSQL's commit is durable when it returns.
    /// </summary>
    internal virtual Task CommittedAsync(DbConnection connection, long mark) => Task.CompletedTask;

    /// <summary>
    /// Starts a transaction that only reads, for one consistent snapshot. SQLite: a deferred BEGIN, which takes no lock until
    /// it reads (Microsoft.Data.Sqlite's default is BEGIN IMMEDIATE, which takes the write lock every writer waits for).
    /// </summary>
    internal virtual async ValueTask<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken ct) =>
        await connection.BeginTransactionAsync(ct).ConfigureAwait(false);

    /// <summary>Prepares the migrator's connection (and serialises migrators across instances where the database is shared).</summary>
    internal abstract Task BeginMigrationAsync(DbConnection connection, CancellationToken ct);

    internal abstract Task EndMigrationAsync(DbConnection connection, CancellationToken ct);

    /// <summary>
    /// Appended to a row-picking subquery: on PostgreSQL the picked rows are locked and rows another transaction holds are
    /// skipped (<c>FOR UPDATE [OF alias] SKIP LOCKED</c>); SQLite has one writer at a time and needs nothing.
    /// </summary>
    internal abstract string SkipLocked(string? alias = null);

    /// <summary>Appended to a read inside a write transaction that must hold the row until commit.</summary>
    internal abstract string ForUpdate { get; }

    /// <summary>
    /// Appended to a subquery that checks a row a write depends on (the lease fence): on PostgreSQL the row is share-locked
    /// until commit, so no one changes it between the check and the write; SQLite's single writer needs nothing.
    /// </summary>
    internal abstract string ForShare { get; }

    /// <summary>
    /// "<paramref name="column"/> matches any element of the list parameter <paramref name="parameter"/>", whose value is
    /// <see cref="List{T}"/>: one parameter however long the list (SQLite: a JSON array unpacked by json_each, since it looks
    /// each named parameter up linearly; PostgreSQL: an array for <c>= ANY</c>).
    /// </summary>
    internal abstract string In(string column, string parameter);

    /// <summary>The value of a list parameter that <see cref="In"/> reads.</summary>
    internal abstract object List<T>(IEnumerable<T> values);

    /// <summary>
    /// <paramref name="column"/>, kept from choosing the index: SQLite has no statistics here (no ANALYZE), so a term on
    /// status or batch_id would lead it to walk the queue index (every queued request) instead of looking listed ids up
    /// by rowid. PostgreSQL plans from its statistics and gets the column as it is.
    /// </summary>
    internal abstract string NoIndex(string column);

    /// <summary>A boolean column value as the dialect stores it.</summary>
    internal abstract object Bool(bool value);

    /// <summary>What the intake writer's callers prepare on their own thread for the dialect's statements (null when nothing).</summary>
    internal abstract object? PrepareIntake(MintRequestRecord[] records, string[] referenceIds, string[] checkedTokenIds);

    /// <summary>The intake writer's connection and its prepared statements.</summary>
    internal abstract Task<IntakeStatements> OpenIntakeAsync(TimeProvider time, CancellationToken ct);

    public abstract ValueTask DisposeAsync();
}
