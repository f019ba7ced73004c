using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Events;
using OpenMint.Core.Telemetry;

namespace OpenMint.Core.Webhooks;

/// <summary>
/// Delivers webhooks from this instance. One loop runs the store's side in rounds (<see cref="WebhookRound"/>): each round
/// is one transaction that records the outcomes gathered since the last one, fans new events out into the outbox and
/// leases due deliveries into a local queue per endpoint (<see cref="WebhookLane"/>), well ahead of what is in flight.
/// A round with nothing to write takes no write transaction (on SQLite the lock intake's writer waits for): with no
/// endpoint enabled the fan-out is skipped where the store allows (<see cref="IWebhookStore.PositionFollowsLogWithoutEndpoints"/>),
/// and claims with nothing due are answered from reads. Rounds run at most once per twentieth of the poll interval unless a backlog waits.
/// Each lane sends up to <see cref="WebhookOptions.MaxConcurrencyPerEndpoint"/> at once and starts the next one as soon as
/// an answer arrives (its outcome is recorded by a later round), so a slow endpoint only holds up its own slots. A lane
/// whose endpoint has nothing due before a known instant is not queried until then. A failing endpoint stays out of the
/// others' way: its retry outcomes are recorded in batches (<see cref="RetryRecordInterval"/>) and its lane, in backoff
/// as a whole, claims little and seldom (<see cref="WebhookLane"/>). Several instances may run: leases
/// keep them off each other's deliveries; a delivery whose sender died is sent again when its lease runs out (same
/// <c>webhook-id</c>).
/// </summary>
public sealed partial class WebhookWorker(
    IMintEventStore events, IWebhookStore store, WebhookOptions options, TimeProvider time, ILogger<WebhookWorker> log, MintEventSignal? signal = null)
    : BackgroundService
{
    /// <summary>How long a lane that got fewer deliveries than it asked for waits before asking again, at most (other instances' work).</summary>
    internal static readonly TimeSpan IdleClaimInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often retry outcomes are recorded, at most: half the first retry delay (500 ms by default). They only push a
    /// delivery's next attempt later, so they may be written late: the delivery stays leased until then, so nobody sends it in
    /// between. An endpoint answering 500 to everything makes them at the rate its events arrive; batched like this they cost
    /// the rounds the other lanes share a statement or two a second.
    /// </summary>
    private TimeSpan RetryRecordInterval => options.FirstRetryDelay / 2;

    private readonly WebhookSender _sender = new(options, time);
    private readonly WebhookFanOut _fanOut = new(events, store);
    private readonly ConcurrentDictionary<string, WebhookLane> _lanes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(WebhookDelivery Delivery, DeliveryOutcome Outcome)> _outcomes = new();
    private readonly ConcurrentQueue<(WebhookDelivery Delivery, DeliveryOutcome Outcome)> _retries = new();
    private DateTimeOffset _retriesRecordedAt = DateTimeOffset.MinValue;
    private readonly MintEventSignal _wake = new();
    private readonly MintEventSignal _events = signal ?? new MintEventSignal();
    private volatile IReadOnlyList<WebhookEndpoint>? _endpoints;
    private int _sending;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.WhenAll(EndpointsLoopAsync(stoppingToken), RoundLoopAsync(stoppingToken), EventWakeLoopAsync(stoppingToken)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        foreach (var lane in _lanes.Values)
        {
            lane.ReleaseQueued();
        }
        while (Volatile.Read(ref _sending) > 0)
        {
            await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
        }
        await FlushOutcomesAsync().ConfigureAwait(false);
    }

    private async Task EndpointsLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var endpoints = await store.ListEndpointsAsync(null, ct).ConfigureAwait(false);
                _endpoints = endpoints;
                UpdateLanes(endpoints);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LoopFailed(log, ex, "endpoints");
            }
            await Task.Delay(options.EndpointRefreshInterval, time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>New endpoints get a lane; a disabled or removed endpoint's lane hands its queued leases back.</summary>
    private void UpdateLanes(IReadOnlyList<WebhookEndpoint> endpoints)
    {
        var byId = endpoints.ToDictionary(e => e.Id, StringComparer.Ordinal);
        foreach (var e in endpoints)
        {
            _lanes.GetOrAdd(e.Id, _ => new WebhookLane(e, options, time, this)).Endpoint = e;
        }
        foreach (var lane in _lanes.Values)
        {
            if (!byId.TryGetValue(lane.Endpoint.Id, out var e) || !e.Enabled)
            {
                lane.ReleaseQueued();
                if (e is null && lane.Idle)
                {
                    _lanes.TryRemove(lane.Endpoint.Id, out _);
                }
            }
        }
    }

    /// <summary>Turns this process's event signal into a round: new events go out without waiting for the poll.</summary>
    private async Task EventWakeLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            if (await _events.WaitAsync(Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false))
            {
                _wake.Notify();
            }
        }
    }

    /// <summary>
    /// Rounds one after another, at most one per <see cref="RoundSpacing"/> unless a backlog is waiting: intake wakes the
    /// worker on every group commit (hundreds of times a second), and one round covers whatever arrived in between.
    /// </summary>
    private async Task RoundLoopAsync(CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            var started = time.GetTimestamp();
            var next = RoundNext.Wait;
            try
            {
                next = await RunRoundAsync(ct).ConfigureAwait(false);
                failures = 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LoopFailed(log, ex, "round");
                failures++;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5_000, 100 << Math.Min(failures, 6))), time, ct).ConfigureAwait(false);
            }
            if (next == RoundNext.AtOnce)
            {
                continue;
            }
            var left = RoundSpacing - time.GetElapsedTime(started);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, time, ct).ConfigureAwait(false);
            }
            if (next == RoundNext.Wait)
            {
                await _wake.WaitAsync(options.PollInterval, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The shortest time from one round's start to the next one's, backlogs aside: a twentieth of the poll interval (5 ms).
    /// A quarter (25 ms) doubled the delivery latency at 2,000 events/s (p50 12 → 26–33 ms, p99 38 → 196–252 ms).
    /// </summary>
    private TimeSpan RoundSpacing => options.PollInterval / 20;

    /// <summary>What follows a round: a wake-up or the poll (nothing done), another round (work done, more may have come), or one at once (a backlog).</summary>
    private enum RoundNext
    {
        Wait,
        Soon,
        AtOnce,
    }

    /// <summary>
    /// One round. Where nothing is to be written it writes nothing: with no endpoint enabled the fan-out is skipped where the
    /// store's position follows the log by itself, and the store answers claims with nothing due from reads alone.
    /// </summary>
    private async Task<RoundNext> RunRoundAsync(CancellationToken ct)
    {
        if (_endpoints is not { } endpoints)
        {
            return RoundNext.Wait;
        }
        var now = time.GetUtcNow();
        var outcomes = DrainOutcomes(_outcomes);
        if (now - _retriesRecordedAt >= RetryRecordInterval && !_retries.IsEmpty)
        {
            outcomes.AddRange(DrainOutcomes(_retries));
            _retriesRecordedAt = now;
        }
        WebhookRound? round = null;
        try
        {
            var fanOut = store.PositionFollowsLogWithoutEndpoints && !endpoints.Any(e => e.Enabled) ? null : await _fanOut.PrepareAsync(ct).ConfigureAwait(false);
            var fresh = fanOut?.Deliveries.Select(d => d.EndpointId).ToHashSet(StringComparer.Ordinal) ?? [];
            var claims = _lanes.Values.Select(l => l.ClaimFor(now, fresh.Contains(l.Endpoint.Id))).OfType<WebhookClaim>().ToList();
            if (outcomes.Count == 0 && fanOut is null && claims.Count == 0)
            {
                return RoundNext.Wait;
            }
            now = time.GetUtcNow();
            round = new WebhookRound(outcomes, fanOut, claims, now, now + options.Lease);
            var result = await store.RunRoundAsync(round, ct).ConfigureAwait(false);
            var leaseUntil = round.LeaseUntil;
            round = null;
            CountRecorded(outcomes);
            var asked = claims.ToDictionary(c => c.EndpointId, c => c.Limit, StringComparer.Ordinal);
            foreach (var claimed in result.Claims)
            {
                if (_lanes.TryGetValue(claimed.EndpointId, out var lane))
                {
                    lane.Claimed(claimed, asked[claimed.EndpointId], now, leaseUntil);
                }
            }
            if (outcomes.Count >= MaxOutcomesPerRound || fanOut is { } f && f.To - f.From >= WebhookFanOut.BatchSize)
            {
                return RoundNext.AtOnce;
            }
            return outcomes.Count > 0 || fanOut is not null || result.Claims.Any(c => c.Deliveries.Count > 0) ? RoundNext.Soon : RoundNext.Wait;
        }
        finally
        {
            if (round is not null)
            {
                // Not committed: the outcomes go into the next round.
                foreach (var o in outcomes)
                {
                    _outcomes.Enqueue(o);
                }
            }
        }
    }

    private const int MaxOutcomesPerRound = 5_000;

    private static List<(WebhookDelivery Delivery, DeliveryOutcome Outcome)> DrainOutcomes(ConcurrentQueue<(WebhookDelivery, DeliveryOutcome)> queue)
    {
        var list = new List<(WebhookDelivery, DeliveryOutcome)>();
        while (list.Count < MaxOutcomesPerRound && queue.TryDequeue(out var o))
        {
            list.Add(o);
        }
        return list;
    }

    private void CountRecorded(List<(WebhookDelivery Delivery, DeliveryOutcome Outcome)> outcomes)
    {
        foreach (var (delivery, outcome) in outcomes)
        {
            if (outcome is not DeliveryOutcome.Released)
            {
                OpenMintMetrics.WebhookDelivery(outcome switch
                {
                    DeliveryOutcome.Delivered => OpenMintMetrics.WebhookOutcome.Delivered,
                    DeliveryOutcome.Retry => OpenMintMetrics.WebhookOutcome.Retried,
                    _ => OpenMintMetrics.WebhookOutcome.Failed,
                });
            }
            if (_lanes.TryGetValue(delivery.EndpointId, out var lane))
            {
                lane.Recorded(outcome);
            }
        }
    }

    /// <summary>Records what is left when stopping (answers that arrived, leases handed back), retrying a few times.</summary>
    private async Task FlushOutcomesAsync()
    {
        for (var attempt = 0; attempt < 5 && !(_outcomes.IsEmpty && _retries.IsEmpty); attempt++)
        {
            var outcomes = DrainOutcomes(_outcomes);
            outcomes.AddRange(DrainOutcomes(_retries));
            try
            {
                var now = time.GetUtcNow();
                await store.RunRoundAsync(new WebhookRound(outcomes, null, [], now, now), CancellationToken.None).ConfigureAwait(false);
                CountRecorded(outcomes);
            }
            catch (Exception ex)
            {
                LoopFailed(log, ex, "record"); // leases run out: the deliveries are sent again
                foreach (var o in outcomes)
                {
                    _outcomes.Enqueue(o);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(200 << attempt), CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Queues an outcome for a round: at once for most, batched for retries (<see cref="RetryRecordInterval"/>).</summary>
    internal void Enqueue(WebhookDelivery delivery, DeliveryOutcome outcome)
    {
        if (outcome is DeliveryOutcome.Retry)
        {
            _retries.Enqueue((delivery, outcome));
            return;
        }
        _outcomes.Enqueue((delivery, outcome));
        _wake.Notify();
    }

    /// <summary>Sends one leased delivery; the answer's outcome goes to the next round and the lane's slot is freed at once.</summary>
    internal async Task SendAsync(WebhookLane lane, WebhookDelivery delivery, CancellationToken ct)
    {
        Interlocked.Increment(ref _sending);
        var answered = false;
        try
        {
            await Task.Yield();
            // The newest copy of the endpoint: a rotation during the lease signs with the new secret too.
            var outcome = await _sender.SendAsync(lane.Endpoint, delivery, ct).ConfigureAwait(false);
            if (outcome is DeliveryOutcome.Delivered)
            {
                OpenMintMetrics.WebhookDeliveryLatency(time.GetUtcNow() - delivery.QueuedAt);
            }
            else
            {
                AttemptFailed(log, delivery.EndpointId, delivery.EventId, delivery.Attempts, outcome.ToString());
            }
            Enqueue(delivery, outcome);
            lane.Answered(outcome is DeliveryOutcome.Delivered);
            answered = true;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: handed back, sent again by whichever instance runs next (same webhook-id).
            _outcomes.Enqueue((delivery, new DeliveryOutcome.Released()));
        }
        catch (Exception ex)
        {
            LoopFailed(log, ex, "send");
        }
        finally
        {
            Interlocked.Decrement(ref _sending);
            if (!answered)
            {
                lane.Answered(false);
            }
        }
    }

    /// <summary>Cancels the sends in flight when the host stops.</summary>
    internal CancellationToken Stopping => _stopping.Token;

    private readonly CancellationTokenSource _stopping = new();

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _sender.Dispose();
        _stopping.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "webhook {Loop} loop failed; retrying")]
    private static partial void LoopFailed(ILogger log, Exception ex, string loop);

    [LoggerMessage(Level = LogLevel.Information, Message = "webhook endpoint {EndpointId}: event {EventId} attempt {Attempt}: {Outcome}")]
    private static partial void AttemptFailed(ILogger log, string endpointId, string eventId, int attempt, string outcome);
}
