using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Telemetry;

namespace OpenMint.Core.Refresh;

/// <summary>
/// The fetch loop of one instance: resolves base URIs of new refreshes, leases tokens from the store in
/// batches, fetches them with bounded concurrency and writes outcomes back in batches. Each step survives
/// its own failures (try/catch per iteration, backoff); stopping releases unfinished leases.
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
    /// <summary>Lease owner name: unique per process start, so a restarted instance never mistakes old leases for its own.</summary>
    private static readonly TimeSpan WriteInterval = TimeSpan.FromMilliseconds(50);

    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    public async Task RunAsync(CancellationToken stop)
    {
        RefreshLog.Started(logger, Owner, options.MaxConcurrency, options.MaxConnectionsPerOrigin);
        var queue = Channel.CreateBounded<ClaimedToken>(new BoundedChannelOptions(options.ClaimBatchSize) { SingleWriter = true });
        var outcomes = Channel.CreateUnbounded<TokenOutcome>(new UnboundedChannelOptions { SingleReader = true });
        using var flushDeadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        var writer = WriteOutcomesAsync(outcomes.Reader, flushDeadline.Token);
        var fetchers = Enumerable.Range(0, options.MaxConcurrency).Select(_ => FetchLoopAsync(queue.Reader, outcomes.Writer, stop)).ToList();
        try
        {
            await FeedAsync(queue, stop).ConfigureAwait(false);
        }
        finally
        {
            queue.Writer.TryComplete();
            await Task.WhenAll(fetchers).ConfigureAwait(false);
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

    private async Task FeedAsync(Channel<ClaimedToken> queue, CancellationToken stop)
    {
        var failures = 0;
        // Jittered start: instances started together do not poll in lockstep.
        await Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)Math.Min(options.PollInterval.TotalMilliseconds, 250))), stop).ConfigureAwait(false);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var room = options.ClaimBatchSize - queue.Reader.Count;
                if (room < options.ClaimBatchSize / 2)
                {
                    // Plenty queued: let the fetchers drain before leasing more.
                    failures = 0;
                    await Delay(TimeSpan.FromMilliseconds(10), stop).ConfigureAwait(false);
                    continue;
                }
                var started = await StartRefreshesAsync(stop).ConfigureAwait(false);
                var tokens = await store.ClaimTokensAsync(Owner, room, time.GetUtcNow(), options.ClaimLease, stop).ConfigureAwait(false);
                foreach (var token in tokens)
                {
                    await queue.Writer.WriteAsync(token, stop).ConfigureAwait(false);
                }
                failures = 0;
                if (tokens.Count == 0 && started == 0)
                {
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

    private async Task FetchLoopAsync(ChannelReader<ClaimedToken> queue, ChannelWriter<TokenOutcome> outcomes, CancellationToken stop)
    {
        try
        {
            while (await queue.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                while (queue.TryRead(out var token))
                {
                    var outcome = await ProcessAsync(token, stop).ConfigureAwait(false);
                    if (outcome is not null)
                    {
                        OpenMintMetrics.RefreshToken(outcome.Succeeded);
                        outcomes.TryWrite(outcome);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping: unfinished tokens are released, not failed.
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
