using Microsoft.Data.Sqlite;

namespace OpenMint.Storage.Sqlite;

/// <summary>
/// Copies the WAL back into the database file on a thread of its own. SQLite's automatic checkpoint runs inside the commit of
/// whichever connection pushes the WAL past 1,000 pages, with two fsyncs (the WAL, then the database file): on the intake
/// writer's thread that stalled a whole group of requests for tens of milliseconds every few dozen groups. Write transactions
/// (<see cref="SqliteDialect.OpenWriteConnectionAsync"/>) therefore turn the automatic checkpoint off, and
/// <see cref="SqliteWalSync"/> asks for a PASSIVE checkpoint here when, after an fsync, it finds more than that many pages in the WAL
/// that no checkpoint has copied back (<see cref="SqliteWalSync.UncheckpointedBytes"/>).
/// PASSIVE never waits for readers or writers; what it cannot copy yet the next request copies. Other connections keep
/// SQLite's automatic checkpoint, and SQLite checkpoints when the last connection closes.
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    /// <summary>
    /// WAL bytes not yet checkpointed past which a checkpoint is asked for: SQLite's default of 1,000 pages of 4 KiB, with their
    /// frame headers. 8,000 pages measured no better under single-asset intake (BENCHMARKS.md, fifth session).
    /// </summary>
    internal const long WalBytes = 1000 * (4096 + 24);

    private readonly string _connectionString;
    private readonly object _gate = new();
    private readonly Thread _thread;
    private bool _requested;
    private bool _stopping;
    private long _checkpoints;

    internal SqliteCheckpointer(string connectionString)
    {
        _connectionString = connectionString;
        _thread = new Thread(Run) { IsBackground = true, Name = "OpenMint SQLite checkpoint" };
        _thread.Start();
    }

    /// <summary>Checkpoints run so far (successful or not).</summary>
    internal long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>Asks for a checkpoint; requests while one runs fold into one more after it.</summary>
    public void Request()
    {
        lock (_gate)
        {
            _requested = true;
            Monitor.Pulse(_gate);
        }
    }

    private void Run()
    {
        SqliteConnection? connection = null;
        try
        {
            while (Next())
            {
                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(_connectionString);
                        connection.Open();
                    }
                    using var command = connection.CreateCommand();
                    command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                    command.ExecuteNonQuery();
                }
                catch (SqliteException)
                {
                    // Busy (another checkpoint runs) or an I/O error: the next request tries again, on a fresh connection.
                    connection?.Dispose();
                    connection = null;
                }
                Interlocked.Increment(ref _checkpoints);
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private bool Next()
    {
        lock (_gate)
        {
            while (!_requested && !_stopping)
            {
                Monitor.Wait(_gate);
            }
            _requested = false;
            return !_stopping;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        _thread.Join();
    }
}
