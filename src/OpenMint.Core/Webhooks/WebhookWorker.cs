using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Events;

namespace OpenMint.Core.Webhooks;

/// <summary>
/// Delivers webhooks from this instance: reloads the endpoints every <see cref="WebhookOptions.EndpointRefreshInterval"/>,
/// fans new mint events out into the outbox, leases due deliveries per endpoint (at most
/// <see cref="WebhookOptions.MaxConcurrencyPerEndpoint"/> in flight each, so a slow endpoint only holds up its own slots),
/// sends them and records the outcomes in batches. Several instances may run: leases keep them off each other's deliveries;
/// a delivery whose sender died is sent again when its lease runs out (same <c>webhook-id</c>).
/// </summary>
public sealed partial class WebhookWorker(IMintEventStore events, IWebhookStore store, WebhookOptions options, TimeProvider time, ILogger<WebhookWorker> log)
    : BackgroundService
{
    private readonly WebhookSender _sender = new(options, time);
    private readonly WebhookFanOut _fanOut = new(events, store, time);
    private readonly ConcurrentDictionary<string, StrongBox> _inFlight = new(StringComparer.Ordinal);
    private readonly Channel<(WebhookDelivery Delivery, DeliveryOutcome Outcome)> _outcomes = Channel.CreateUnbounded<(WebhookDelivery, DeliveryOutcome)>();
    private readonly SemaphoreSlim _wake = new(0);
    private volatile IReadOnlyList<WebhookEndpoint>? _endpoints;
    private int _sending;

    private sealed class StrongBox
    {
        public int Value;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var recorder = RecordLoopAsync();
        try
        {
            await Task.WhenAll(EndpointsLoopAsync(stoppingToken), FanOutLoopAsync(stoppingToken), DispatchLoopAsync(stoppingToken)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        while (Volatile.Read(ref _sending) > 0)
        {
            await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
        }
        _outcomes.Writer.TryComplete();
        await recorder.ConfigureAwait(false);
    }

    private async Task EndpointsLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                _endpoints = await store.ListEndpointsAsync(null, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LoopFailed(log, ex, "endpoints");
            }
            await Task.Delay(options.EndpointRefreshInterval, time, ct).ConfigureAwait(false);
        }
    }

    private async Task FanOutLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var moved = 0;
            try
            {
                if (_endpoints is { } endpoints)
                {
                    moved = await _fanOut.RunOnceAsync(endpoints, ct).ConfigureAwait(false);
                    if (moved > 0)
                    {
                        _wake.Release();
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LoopFailed(log, ex, "fan-out");
            }
            if (moved < WebhookFanOut.BatchSize)
            {
                await Task.Delay(options.PollInterval, time, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task DispatchLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var full = false;
            try
            {
                foreach (var endpoint in _endpoints ?? [])
                {
                    full |= endpoint.Enabled && await DispatchAsync(endpoint, ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LoopFailed(log, ex, "dispatch");
            }
            if (!full)
            {
                await _wake.WaitAsync(options.PollInterval, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Leases and starts as many due deliveries of the endpoint as it has free slots; true when every slot got one.</summary>
    private async Task<bool> DispatchAsync(WebhookEndpoint endpoint, CancellationToken ct)
    {
        var inFlight = _inFlight.GetOrAdd(endpoint.Id, _ => new StrongBox());
        var free = options.MaxConcurrencyPerEndpoint - Volatile.Read(ref inFlight.Value);
        if (free <= 0)
        {
            return false;
        }
        var now = time.GetUtcNow();
        var claimed = await store.ClaimDueAsync(endpoint.Id, free, now, now + options.Lease, ct).ConfigureAwait(false);
        foreach (var delivery in claimed)
        {
            Interlocked.Increment(ref inFlight.Value);
            Interlocked.Increment(ref _sending);
            _ = SendAsync(endpoint, delivery, inFlight, ct);
        }
        return claimed.Count == free;
    }

    private async Task SendAsync(WebhookEndpoint endpoint, WebhookDelivery delivery, StrongBox inFlight, CancellationToken ct)
    {
        try
        {
            await Task.Yield();
            // The newest copy of the endpoint: a rotation during the lease signs with the new secret too.
            var current = _endpoints?.FirstOrDefault(e => e.Id == endpoint.Id) ?? endpoint;
            var outcome = await _sender.SendAsync(current, delivery, ct).ConfigureAwait(false);
            if (outcome is not DeliveryOutcome.Delivered)
            {
                AttemptFailed(log, endpoint.Id, delivery.EventId, delivery.Attempts, outcome.ToString());
            }
            await _outcomes.Writer.WriteAsync((delivery with { EndpointId = endpoint.Id }, outcome), CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: the lease runs out and the delivery is sent again (same webhook-id).
            Interlocked.Decrement(ref inFlight.Value);
        }
        catch (Exception ex)
        {
            LoopFailed(log, ex, "send");
            Interlocked.Decrement(ref inFlight.Value);
        }
        finally
        {
            Interlocked.Decrement(ref _sending);
        }
    }

    /// <summary>Writes outcomes in batches (one transaction each), then frees the endpoints' slots.</summary>
    private async Task RecordLoopAsync()
    {
        var reader = _outcomes.Reader;
        var batch = new List<(WebhookDelivery Delivery, DeliveryOutcome Outcome)>();
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (batch.Count < 1000 && reader.TryRead(out var item))
            {
                batch.Add(item);
            }
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await store.RecordOutcomesAsync(batch, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                    break;
                }
                catch (Exception ex) when (attempt < 5)
                {
                    LoopFailed(log, ex, "record");
                    await Task.Delay(TimeSpan.FromMilliseconds(200 << attempt), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    LoopFailed(log, ex, "record"); // leases run out: the deliveries are sent again
                    break;
                }
            }
            foreach (var (delivery, _) in batch)
            {
                if (_inFlight.TryGetValue(delivery.EndpointId, out var box))
                {
                    Interlocked.Decrement(ref box.Value);
                }
            }
            batch.Clear();
            _wake.Release();
        }
    }

    public override void Dispose()
    {
        _sender.Dispose();
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "webhook {Loop} loop failed; retrying")]
    private static partial void LoopFailed(ILogger log, Exception ex, string loop);

    [LoggerMessage(Level = LogLevel.Information, Message = "webhook endpoint {EndpointId}: event {EventId} attempt {Attempt}: {Outcome}")]
    private static partial void AttemptFailed(ILogger log, string endpointId, string eventId, int attempt, string outcome);
}
