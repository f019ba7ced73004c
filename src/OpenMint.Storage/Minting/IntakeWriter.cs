using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using OpenMint.Core.Minting;

namespace OpenMint.Storage.Minting;

/// <summary>
/// Group commit: concurrent create requests queue here and one writer loop stores as many as are waiting in a
/// single transaction (each inside its own savepoint), so one durable commit answers many requests.
/// Nobody is answered before the commit that holds their rows has returned.
/// A hosted service: started with the host (or by <see cref="OpenMintStorage.OpenAsync"/>); on stop it takes no new
/// work and finishes everything already queued before it returns, so no accepted request is lost.
/// </summary>
internal sealed class IntakeWriter : IHostedService, IAsyncDisposable
{
    /// <summary>Most requests one group commit takes together, and most assets.</summary>
    private const int GroupMaxRequests = 1024;
    private const int GroupMaxAssets = 6400;

    private readonly Channel<IntakeWork> _queue = Channel.CreateUnbounded<IntakeWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Database _db;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Task? _loop;
    private IntakeStatements? _statements;

    /// <summary>The answers of the last group whose commit was still syncing (syncs complete in order, so it is the last to go out).</summary>
    private Task _lastAnswers = Task.CompletedTask;

    internal IntakeWriter(Database db, TimeProvider time)
    {
        _db = db;
        _time = time;
    }

    /// <summary>Queues <paramref name="work"/>; false once the writer is stopping.</summary>
    internal bool TryEnqueue(IntakeWork work) => _queue.Writer.TryWrite(work);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _loop ??= StartLoop();
        }
        return Task.CompletedTask;
    }

    /// <summary>Closes the queue and waits until every queued request is committed (or has failed) and answered.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        Task loop;
        lock (_gate)
        {
            // Never started: still drain what was queued.
            loop = _loop ??= StartLoop();
        }
        await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    /// <summary>
    /// The writer loop runs on a thread of its own. On SQLite every statement and the commit's fsync complete synchronously,
    /// so the loop blocks wherever it waits; on the thread pool it held a pool thread through each fsync and each start of a
    /// group was queued behind every pending pool item (tens under load), which added milliseconds to every request.
    /// </summary>
    private Task StartLoop()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "OpenMint intake writer",
        };
        thread.Start();
        return done.Task;
    }

    private void Run()
    {
        var reader = _queue.Reader;
        var group = new List<IntakeWork>(GroupMaxRequests);
        try
        {
            while (WaitToRead(reader))
            {
                group.Clear();
                var assets = 0;
                while (group.Count < GroupMaxRequests && assets < GroupMaxAssets && reader.TryRead(out var work))
                {
                    if (work.Ct.IsCancellationRequested)
                    {
                        work.Done.TrySetCanceled(work.Ct);
                        continue;
                    }
                    group.Add(work);
                    assets += work.Records.Length;
                }
                if (group.Count > 0)
                {
                    // Synchronous on SQLite; on PostgreSQL the statements' continuations run on the pool while this thread waits.
                    CommitGroupAsync(group).GetAwaiter().GetResult();
                }
            }
        }
        finally
        {
            _lastAnswers.GetAwaiter().GetResult();
            if (_statements is not null)
            {
                _statements.DisposeAsync().AsTask().GetAwaiter().GetResult();
                _statements = null;
            }
        }
    }

    private static bool WaitToRead(ChannelReader<IntakeWork> reader)
    {
        var wait = reader.WaitToReadAsync(CancellationToken.None);
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Stores the group in one transaction. Its answers go out once the commit is durable: on SQLite the WAL's fsync runs after
    /// the write lock is free (<see cref="SqlDialect.CommittedAsync"/>), so the loop starts the next group's statements while
    /// the disk syncs this one, and the answers are given on the sync's completion.
    /// </summary>
    private async Task CommitGroupAsync(List<IntakeWork> group)
    {
        // The clients may give up while we write; the group commits regardless (their rows are valid intake).
        var ct = CancellationToken.None;
        var outcomes = new MintIntakeOutcome?[group.Count];
        Task durable;
        try
        {
            // One connection with prepared statements lives as long as the writer loop; it is rebuilt after any failure.
            _statements ??= await _db.Dialect.OpenIntakeAsync(_time, ct).ConfigureAwait(false);
            var writer = _statements;
            long mark;
            await using (var tx = await writer.Connection.BeginTransactionAsync(ct).ConfigureAwait(false))
            {
                mark = _db.Dialect.WriteMark(writer.Connection);
                await writer.BeginAsync(tx, group, ct).ConfigureAwait(false);
                var together = group.Count > 1 ? await AcceptTogetherAsync(writer, group, ct).ConfigureAwait(false) : null;
                for (var i = 0; i < group.Count; i++)
                {
                    outcomes[i] = together is null ? await AcceptInSavepointAsync(writer, group[i], ct).ConfigureAwait(false) : together[i];
                }
                await tx.CommitAsync(ct).ConfigureAwait(false);
            }
            durable = _db.Dialect.CommittedAsync(writer.Connection, mark);
        }
        catch (Exception ex)
        {
            if (_statements is not null)
            {
                await _statements.DisposeAsync().ConfigureAwait(false);
                _statements = null;
            }
            Fail(group, ex);
            return;
        }
        if (durable.IsCompletedSuccessfully)
        {
            Answer(group, outcomes);
            return;
        }
        var answered = group.ToArray();
        _lastAnswers = durable.ContinueWith(d =>
        {
            if (d.IsCompletedSuccessfully)
            {
                Answer(answered, outcomes);
            }
            else
            {
                Fail(answered, d.Exception!.InnerException!);
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static void Answer(IReadOnlyList<IntakeWork> group, MintIntakeOutcome?[] outcomes)
    {
        for (var i = 0; i < group.Count; i++)
        {
            if (outcomes[i] is { } outcome)
            {
                group[i].Done.TrySetResult(outcome);
            }
        }
    }

    private static void Fail(IEnumerable<IntakeWork> group, Exception ex)
    {
        foreach (var work in group)
        {
            work.Done.TrySetException(ex);
        }
    }

    /// <summary>
    /// The whole group in one savepoint (<see cref="IntakeTransaction.AcceptGroupAsync"/>): a handful of statements instead of
    /// several per request, which is what makes many small requests cheap. Null (nothing written) when the group must be
    /// taken one request at a time.
    /// </summary>
    private static async Task<MintIntakeOutcome[]?> AcceptTogetherAsync(IntakeStatements writer, List<IntakeWork> group, CancellationToken ct)
    {
        await writer.ExecuteAsync("SAVEPOINT intake_group", ct).ConfigureAwait(false);
        MintIntakeOutcome[]? outcomes;
        try
        {
            outcomes = await IntakeTransaction.AcceptGroupAsync(writer, group, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or FormatException)
        {
            // A deadlock with another instance's writer, or one bad request: one by one, each in its savepoint, sorts it out.
            outcomes = null;
        }
        if (outcomes is null)
        {
            await writer.ExecuteAsync("ROLLBACK TO SAVEPOINT intake_group", ct).ConfigureAwait(false);
        }
        await writer.ExecuteAsync("RELEASE SAVEPOINT intake_group", ct).ConfigureAwait(false);
        return outcomes;
    }

    /// <summary>
    /// One request in its own savepoint; null when it failed (its caller already has the exception). A request that lost a
    /// race with another instance's writer (PostgreSQL: a reference id committed meanwhile, or a deadlock between the two)
    /// is decided again from its savepoint, a few times at most.
    /// </summary>
    private async Task<MintIntakeOutcome?> AcceptInSavepointAsync(IntakeStatements writer, IntakeWork work, CancellationToken ct)
    {
        const int Attempts = 4;
        for (var attempt = 1; ; attempt++)
        {
            await writer.ExecuteAsync("SAVEPOINT intake", ct).ConfigureAwait(false);
            try
            {
                var outcome = await IntakeTransaction.AcceptFastAsync(writer, work, ct).ConfigureAwait(false);
                if (outcome is null)
                {
                    // A reference id is taken: undo the fast path's writes and decide with every lookup.
                    await writer.ExecuteAsync("ROLLBACK TO SAVEPOINT intake", ct).ConfigureAwait(false);
                    outcome = await IntakeTransaction.AcceptAsync(writer, _db.Dialect, work, ct).ConfigureAwait(false);
                }
                if (outcome is null && attempt < Attempts)
                {
                    await writer.ExecuteAsync("ROLLBACK TO SAVEPOINT intake", ct).ConfigureAwait(false);
                    await writer.ExecuteAsync("RELEASE SAVEPOINT intake", ct).ConfigureAwait(false);
                    continue;
                }
                await writer.ExecuteAsync("RELEASE SAVEPOINT intake", ct).ConfigureAwait(false);
                return outcome ?? throw new InvalidOperationException($"a reference id of the request kept appearing inside the intake transaction ({Attempts} attempts)");
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or FormatException)
            {
                // One bad request must not sink the others in its group.
                await writer.ExecuteAsync("ROLLBACK TO SAVEPOINT intake", ct).ConfigureAwait(false);
                await writer.ExecuteAsync("RELEASE SAVEPOINT intake", ct).ConfigureAwait(false);
                if (ex is DbException { IsTransient: true } && attempt < Attempts)
                {
                    continue;
                }
                work.Done.TrySetException(ex);
                return null;
            }
        }
    }
}
