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

    /// <summary>"<paramref name="column"/> matches any element of the list parameter <paramref name="parameter"/>".</summary>
    internal abstract string In(string column, string parameter);

    /// <summary>A boolean column value as the dialect stores it.</summary>
    internal abstract object Bool(bool value);

    /// <summary>What the intake writer's callers prepare on their own thread for the dialect's statements (null when nothing).</summary>
    internal abstract object? PrepareIntake(MintRequestRecord[] records, string[] referenceIds, string[] checkedTokenIds);

    /// <summary>The intake writer's connection and its prepared statements.</summary>
    internal abstract Task<IntakeStatements> OpenIntakeAsync(TimeProvider time, CancellationToken ct);

    public abstract ValueTask DisposeAsync();
}
