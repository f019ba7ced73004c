using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Telemetry;

namespace OpenMint.Core.Refresh;

/// <summary>
/// The fetch loop of one instance: resolves base URIs of new refreshes, leases tokens from the store in fair claims
/// (round-robin over projects and refreshes, see <see cref="ClaimPlanner"/>), queues them per origin and fetches them
/// in the slots <see cref="OriginScheduler"/> hands out, and writes outcomes back in batches. Each step survives its
/// own failures (try/catch per iteration, backoff); stopping releases unfinished leases.
/// </summary>
public sealed class RefreshProcessor(
    IRefreshStore store,
    MetadataFetcher fetcher,
    BaseUriResolver resolver,
    RefreshOptions options,
    RefreshSignal signal,
    TimeProvider time,
    ILogger<RefreshProcessor> logger)
{
    private static readonly TimeSpan WriteInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Lease owner name: unique per process start, so a restarted instance never mistakes old leases for its own.</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    public async Task RunAsync(CancellationToken stop)
    {
        RefreshLog.Started(logger, Owner, options.MaxConcurrency, options.MaxConcurrencyPerOrigin);
        var outcomes = Channel.CreateUnbounded<TokenOutcome>(new UnboundedChannelOptions { SingleReader = true });
        using var flushDeadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        var writer = WriteOutcomesAsync(outcomes.Reader, flushDeadline.Token);
        var fetches = new Fetches(this, new OriginScheduler(options, signal.Notify), outcomes.Writer, stop);
        try
        {
            await FeedAsync(fetches, stop).ConfigureAwait(false);
        }
        finally
        {
            await fetches.DrainAsync().ConfigureAwait(false);
            outcomes.Writer.TryComplete();
            // Outcomes already fetched are worth keeping; give the last flush a bounded time.
            flushDeadline.CancelAfter(TimeSpan.FromSeconds(10));
            await writer.ConfigureAwait(false);
            try
            {
                await store.ReleaseClaimsAsync(Owner, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Not fatal: the leases expire after Refresh:ClaimLease and another instance resumes.
                RefreshLog.IterationFailed(logger, ex, options.ClaimLease);
            }
            RefreshLog.Stopped(logger, Owner);
        }
    }

    private async Task FeedAsync(Fetches fetches, CancellationToken stop)
    {
        var failures = 0;
        // Jittered start: instances started together do not poll in lockstep.
        await Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)Math.Min(options.PollInterval.TotalMilliseconds, 250))), stop).ConfigureAwait(false);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var started = await StartRefreshesAsync(stop).ConfigureAwait(false);
                var claimed = await ClaimAsync(fetches, stop).ConfigureAwait(false);
                failures = 0;
                if (claimed == 0 && started == 0)
                {
                    // Nothing new, or every origin with work is queued full here: wait for a new refresh on this
                    // instance, for an origin (or the whole queue) to drain to half, or for the next poll.
                    await signal.WaitAsync(options.PollInterval, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, Math.Min(failures, 8))));
                RefreshLog.IterationFailed(logger, ex, delay);
                await Delay(delay, stop).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One fair claim sized to the room in this instance's queue and each origin's backlog; the tokens start at once where slots are free.</summary>
    private async Task<int> ClaimAsync(Fetches fetches, CancellationToken stop)
    {
        var room = fetches.Scheduler.Room();
        if (room == 0)
        {
            return 0;
        }
        var claim = new TokenClaim(Owner, room, options.ClaimTurnSize, time.GetUtcNow(), options.ClaimLease) { Budget = fetches.Scheduler.ClaimBudget() };
        var tokens = await store.ClaimTokensAsync(claim, stop).ConfigureAwait(false);
        fetches.Scheduler.Add(tokens);
        fetches.Pump();
        return tokens.Count;
    }

    private async Task<int> StartRefreshesAsync(CancellationToken stop)
    {
        var started = 0;
        // Bounded per iteration so token fetching of earlier refreshes keeps flowing.
        while (started < 16)
        {
            var refresh = await store.ClaimRefreshToStartAsync(Owner, time.GetUtcNow(), options.ClaimLease, stop).ConfigureAwait(false);
            if (refresh is null)
            {
                break;
            }
            started++;
            switch (await resolver.ResolveAsync(refresh, stop).ConfigureAwait(false))
            {
                case BaseUriResolution.Resolved resolved:
                    await store.MarkRefreshStartedAsync(refresh.Seq, Owner, resolved.BaseUri, time.GetUtcNow(), stop).ConfigureAwait(false);
                    RefreshLog.RefreshBegan(logger, refresh.RefreshId, resolved.BaseUri);
                    break;
                case BaseUriResolution.Unavailable unavailable:
                    RefreshLog.BaseUriUnavailable(logger, refresh.RefreshId, unavailable.Reason);
                    await store.FailRefreshAtStartAsync(refresh.Seq, Owner, RefreshErrorCodes.UnableToRetrieveMetadata, "", Cap(unavailable.Reason), time.GetUtcNow(), stop).ConfigureAwait(false);
                    break;
            }
        }
        return started;
    }

    private string Cap(string text) => Texts.Cut(text, options.StoredBodyBytes);

    /// <summary>The fetches of one run: started whenever the scheduler frees a slot, awaited before the run ends.</summary>
    private sealed class Fetches(RefreshProcessor processor, OriginScheduler scheduler, ChannelWriter<TokenOutcome> outcomes, CancellationToken stop)
    {
        private readonly object _lock = new();
        private int _running;
        private TaskCompletionSource? _drained;

        public OriginScheduler Scheduler => scheduler;

        /// <summary>Starts a fetch for every token that has a free slot.</summary>
        public void Pump()
        {
            while (!stop.IsCancellationRequested && scheduler.TryStart(out var fetch))
            {
                lock (_lock)
                {
                    _running++;
                }
                _ = RunAsync(fetch);
            }
        }

        private async Task RunAsync(ScheduledFetch fetch)
        {
            // Off the caller's stack: a token that needs no request finishes synchronously and pumps the next one.
            await Task.Yield();
            try
            {
                var outcome = await processor.ProcessAsync(fetch.Token, stop).ConfigureAwait(false);
                if (outcome is not null)
                {
                    OpenMintMetrics.RefreshToken(outcome.Succeeded);
                    outcomes.TryWrite(outcome);
                }
            }
            finally
            {
                scheduler.Finish(fetch);
                Pump();
                lock (_lock)
                {
                    if (--_running == 0)
                    {
                        _drained?.TrySetResult();
                    }
                }
            }
        }

        /// <summary>Waits for the fetches in flight (stopping cancels them; their tokens are released, not failed).</summary>
        public Task DrainAsync()
        {
            lock (_lock)
            {
                if (_running == 0)
                {
                    return Task.CompletedTask;
                }
                _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return _drained.Task;
            }
        }
    }

    private async Task<TokenOutcome?> ProcessAsync(ClaimedToken token, CancellationToken stop)
    {
        var url = TokenIds.MetadataUrl(token.BaseUri, token.TokenId);
        if (!token.Known)
        {
            return new TokenOutcome(token.Id, token.RefreshSeq, token.CollectionId, token.TokenId, false, url, null, null, RefreshErrorCodes.TokenNotFound, null);
        }
        FetchResult result;
        try
        {
            result = await fetcher.FetchAsync(url, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex)
        {
            // A bug in the fetch path must cost one token, not the worker.
            RefreshLog.FetchThrew(logger, ex, token.TokenId);
            result = FetchResult.Fail(RefreshErrorCodes.UnableToRetrieveMetadata, null, Cap(ex.Message));
        }
        if (!result.Succeeded)
        {
            RefreshLog.TokenFetchFailed(logger, token.TokenId, url, result.ErrorCode, result.StatusCode);
        }
        return new TokenOutcome(token.Id, token.RefreshSeq, token.CollectionId, token.TokenId, result.Succeeded, url, result.StatusCode, result.Body, result.ErrorCode, result.Metadata);
    }

    private async Task WriteOutcomesAsync(ChannelReader<TokenOutcome> outcomes, CancellationToken flushDeadline)
    {
        var batch = new List<TokenOutcome>(1024);
        var failures = 0;
        try
        {
            while (await outcomes.WaitToReadAsync(flushDeadline).ConfigureAwait(false))
            {
                // Whatever arrived while the last batch was being written goes in one transaction.
                while (batch.Count < 1024 && outcomes.TryRead(out var outcome))
                {
                    batch.Add(outcome);
                }
                try
                {
                    await store.CompleteTokensAsync(Owner, batch, time.GetUtcNow(), flushDeadline).ConfigureAwait(false);
                    var full = batch.Count >= 1024;
                    batch.Clear();
                    failures = 0;
                    if (!full && !outcomes.Completion.IsCompleted)
                    {
                        // Let outcomes gather: fewer, larger transactions leave the store's write lock free
                        // for the API (a single-writer SQLite would otherwise be held by this loop).
                        await Delay(WriteInterval, flushDeadline).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !flushDeadline.IsCancellationRequested)
                {
                    failures++;
                    var delay = TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * Math.Pow(2, Math.Min(failures, 7))));
                    RefreshLog.WriteFailedRetrying(logger, ex, batch.Count, delay);
                    await Delay(delay, flushDeadline).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (flushDeadline.IsCancellationRequested)
        {
            // Unwritten outcomes: their leases are released and the tokens fetched again later.
        }
    }

    private async Task Delay(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, time, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
