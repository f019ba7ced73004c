namespace OpenMint.Storage.Sqlite;

/// <summary>
/// Makes SQLite commits durable after the write lock is released, many commits per fsync.
/// <para>
/// SQLite's documentation of <c>PRAGMA synchronous</c> says that in WAL mode FULL differs from NORMAL by one thing: "an
/// additional sync operation of the WAL file happens after each transaction commit". NORMAL already syncs the WAL before each
/// checkpoint, the database file after it, and the WAL header when the WAL is reused, so it never corrupts the database; it
/// may only lose the last commits on a power cut. Our write transactions therefore commit with NORMAL and then wait here for
/// that one missing sync: an fsync of the <c>-wal</c> file that started after their commit returned. Until it has, nobody is
/// told the write happened (a 202, a pipeline step that broadcasts, a webhook sent). That is FULL's guarantee, but the fsync
/// no longer holds SQLite's single write lock, so other writers run while the disk syncs, and one fsync answers every commit
/// that came before it (group commit across the intake writer, the pipeline and the webhook worker).
/// </para>
/// <para>
/// A process crash loses nothing either way (the commit is in the OS page cache); a power cut between a commit and its fsync
/// loses only writes nobody was told about. Another connection can read such a row for that short while (a GET), as it could
/// between commit and answer before. After an fsync fails every later wait fails too, since a later fsync on Linux can
/// report success for pages the kernel dropped after the failure: restart the service (it then recovers from the WAL).
/// </para>
/// </summary>
internal sealed class SqliteWalSync : IDisposable
{
    private readonly string _walPath;
    private readonly Func<string, long> _flush;
    private readonly SqliteCheckpointer? _checkpointer;
    private readonly object _gate = new();
    private readonly Thread _thread;
    private List<TaskCompletionSource> _waiting = [];
    private List<TaskCompletionSource> _spare = [];
    private Exception? _failed;
    private bool _stopping;
    private bool _flushing;
    private long _syncs;
    private long _commits;

    /// <param name="databasePath">The database file; its WAL is <c>databasePath-wal</c>.</param>
    /// <param name="flush">fsync of the given file, returning the WAL bytes not yet checkpointed (tests replace it to hold or fail a sync).</param>
    /// <param name="checkpointer">Asked for a checkpoint when the WAL holds more than <see cref="SqliteCheckpointer.WalBytes"/> not yet checkpointed.</param>
    internal SqliteWalSync(string databasePath, Func<string, long>? flush = null, SqliteCheckpointer? checkpointer = null)
    {
        _walPath = databasePath + "-wal";
        _flush = flush ?? FlushToDisk;
        _checkpointer = checkpointer;
        _thread = new Thread(Run) { IsBackground = true, Name = "OpenMint SQLite WAL sync" };
        _thread.Start();
    }

    /// <summary>fsyncs done so far, and commits they made durable (commits ÷ syncs = how many commits one fsync carried).</summary>
    internal (long Syncs, long Commits) Counts
    {
        get
        {
            lock (_gate)
            {
                return (_syncs, _commits);
            }
        }
    }

    /// <summary>Completes once an fsync of the WAL that started after this call has returned: every commit before the call is durable.</summary>
    public Task SyncAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_failed is not null)
            {
                return Task.FromException(Failure(_failed));
            }
            if (!_stopping)
            {
                _waiting.Add(done);
                if (_waiting.Count == 1)
                {
                    Monitor.Pulse(_gate);
                }
                return done.Task;
            }
        }
        // Stopped: sync on the caller's thread (a late commit, e.g. a worker finishing while the store is disposed).
        try
        {
            _flush(_walPath);
            return Task.CompletedTask;
        }
        catch (Exception ex)
        {
            return Task.FromException(Failure(ex));
        }
    }

    /// <summary>
    /// For an answer that wrote nothing but may rest on rows another commit wrote (a 409 for a reference id stored a moment
    /// ago): completes once every commit that was waiting for, or in, an fsync at the time of the call is durable.
    /// </summary>
    public Task SettledAsync()
    {
        lock (_gate)
        {
            if (_waiting.Count == 0 && !_flushing && _failed is null)
            {
                return Task.CompletedTask;
            }
        }
        return SyncAsync();
    }

    private void Run()
    {
        while (true)
        {
            List<TaskCompletionSource> batch;
            lock (_gate)
            {
                while (_waiting.Count == 0 && !_stopping)
                {
                    Monitor.Wait(_gate);
                }
                if (_waiting.Count == 0)
                {
                    return;
                }
                batch = _waiting;
                _waiting = _spare;
                _flushing = true;
            }
            Exception? error = null;
            try
            {
                if (_flush(_walPath) > SqliteCheckpointer.WalBytes)
                {
                    _checkpointer?.Request();
                }
            }
            catch (Exception ex)
            {
                error = ex;
            }
            lock (_gate)
            {
                _failed ??= error;
                _flushing = false;
                _syncs++;
                _commits += batch.Count;
            }
            foreach (var waiter in batch)
            {
                if (error is null)
                {
                    waiter.TrySetResult();
                }
                else
                {
                    waiter.TrySetException(Failure(error));
                }
            }
            batch.Clear();
            lock (_gate)
            {
                _spare = batch;
            }
        }
    }

    private static IOException Failure(Exception cause) =>
        new("the SQLite WAL could not be synced to disk; the write may not survive a power cut, restart the service", cause);

    /// <summary>
    /// fsync of the WAL through a handle of our own; returns the WAL bytes not yet copied back into the database file
    /// (<see cref="UncheckpointedBytes"/>). fsync works on the file, not the descriptor. No WAL file means the last
    /// connection closed, checkpointed it into the database file, synced that and deleted it: nothing is left to sync. SQLite
    /// holds no POSIX lock on the WAL file (its locks are on the database and -shm files), so closing our handle releases none of its.
    /// </summary>
    internal static long FlushToDisk(string path)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
        using (handle)
        {
            RandomAccess.FlushToDisk(handle);
            return UncheckpointedBytes(path[..^"-wal".Length] + "-shm") ?? RandomAccess.GetLength(handle);
        }
    }

    /// <summary>
    /// The frames in the WAL that no checkpoint has copied back yet, in bytes, from the wal-index header at the start of the
    /// <c>-shm</c> file (SQLite's documented WAL-index format: two copies of a 48-byte header, version 3007000, whose
    /// <c>mxFrame</c> at offset 16 is the last valid frame, then <c>nBackfill</c> at offset 96, the frames already copied).
    /// The WAL file's length says nothing once the WAL has grown: SQLite writes from its start again after a checkpoint
    /// without truncating it, so asking for a checkpoint whenever the file was long ran them back to back (~25 a second under
    /// single-asset intake, each restart of the WAL adding an fsync to the intake writer's commit). Null when the header
    /// cannot be read whole (the two copies differ while a writer updates it) or is not of that version.
    /// </summary>
    internal static long? UncheckpointedBytes(string shmPath)
    {
        const int HeaderBytes = 48;
        const uint Version = 3007000;
        Span<byte> header = stackalloc byte[2 * HeaderBytes + 4];
        try
        {
            using var shm = File.OpenHandle(shmPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (RandomAccess.Read(shm, header, 0) < header.Length)
            {
                return null;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // never an fsync failure: the caller falls back to the WAL file's length
        }
        var first = header[..HeaderBytes];
        if (!first.SequenceEqual(header.Slice(HeaderBytes, HeaderBytes)) || BitConverter.ToUInt32(first) != Version)
        {
            return null;
        }
        // Native byte order (the -shm file is never moved between machines); szPage 1 stands for 65,536.
        var size = BitConverter.ToUInt16(first[14..]);
        var pageSize = size == 1 ? 65_536 : size;
        var frames = (long)BitConverter.ToUInt32(first[16..]);
        var copied = (long)BitConverter.ToUInt32(header[(2 * HeaderBytes)..]);
        return frames >= copied ? (frames - copied) * (pageSize + 24) : null;
    }

    /// <summary>Syncs what is waiting, then stops the thread; later calls sync on their own thread.</summary>
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
