namespace OpenMint.Core.Webhooks;

/// <summary>
/// One endpoint's side of the worker: the deliveries leased for it and not yet sent (a local queue refilled by large
/// claims), the sends in flight (at most <see cref="WebhookOptions.MaxConcurrencyPerEndpoint"/>), and when to ask the
/// store again. The claim window follows the endpoint's measured pace, so what is leased can be sent within its lease;
/// a queued delivery with less than 1.5 attempt timeouts of lease left is handed back rather than sent late.
/// <para>A lane whose endpoint answered nothing but failures lately (<see cref="FailingAfter"/> in a row) is in backoff as a
/// whole: it asks the store at most once per <see cref="WebhookOptions.FirstRetryDelay"/>, for at most
/// <see cref="FailingClaimLimit"/> deliveries, so a dead endpoint gets at most 4 × MaxConcurrencyPerEndpoint attempts per
/// first retry delay (64/s by default) however fast its events arrive, and the store rounds and CPU the other lanes share
/// stay free. Its deliveries wait their turn (still leased one claim at a time, in order); the first success ends it.</para>
/// </summary>
internal sealed class WebhookLane(WebhookEndpoint endpoint, WebhookOptions options, TimeProvider time, WebhookWorker worker)
{
    private readonly Queue<(WebhookDelivery Delivery, DateTimeOffset LeaseUntil)> _ready = new();
    /// <summary>Failed answers in a row after which a lane counts as failing (one success ends it).</summary>
    internal const int FailingAfter = 16;

    /// <summary>How many deliveries a failing lane leases per claim, at most.</summary>
    private int FailingClaimLimit => 4 * options.MaxConcurrencyPerEndpoint;

    private readonly object _gate = new();
    private int _failedInARow;
    private DateTimeOffset _claimedAt = DateTimeOffset.MinValue;
    private int _inFlight;
    private bool _dirty = true;
    private DateTimeOffset _dueAt = DateTimeOffset.MinValue;
    private long _answered;
    private DateTimeOffset _rateSince = time.GetUtcNow();
    private long _answeredAtRateSince;
    private double _perSecond;

    public volatile WebhookEndpoint Endpoint = endpoint;

    public bool Idle
    {
        get
        {
            lock (_gate)
            {
                return _ready.Count == 0 && _inFlight == 0;
            }
        }
    }

    /// <summary>How many deliveries this lane keeps leased (queued + in flight): about a third of a lease's worth at the measured pace.</summary>
    private int Window()
    {
        var max = options.MaxConcurrencyPerEndpoint;
        return (int)Math.Clamp(_perSecond * options.Lease.TotalSeconds / 3, 2 * max, Math.Max(2 * max, 2_000));
    }

    /// <summary>The claim this lane wants in a round at <paramref name="now"/>, or null.</summary>
    public WebhookClaim? ClaimFor(DateTimeOffset now, bool newDeliveries)
    {
        var endpoint = Endpoint;
        if (!endpoint.Enabled)
        {
            return null;
        }
        UpdatePace();
        lock (_gate)
        {
            var window = Window();
            var held = _ready.Count + _inFlight;
            if (held > window / 2 || !(newDeliveries || _dirty || now >= _dueAt))
            {
                return null;
            }
            var limit = window - held;
            if (Volatile.Read(ref _failedInARow) >= FailingAfter)
            {
                if (now - _claimedAt < options.FirstRetryDelay || held > 0)
                {
                    return null;
                }
                limit = Math.Min(limit, FailingClaimLimit);
            }
            _claimedAt = now;
            return new WebhookClaim(endpoint.Id, limit);
        }
    }

    /// <summary>Takes what a claim leased and starts sending; schedules the next claim.</summary>
    public void Claimed(WebhookClaimed claimed, int asked, DateTimeOffset now, DateTimeOffset leaseUntil)
    {
        lock (_gate)
        {
            foreach (var d in claimed.Deliveries)
            {
                _ready.Enqueue((d, leaseUntil));
            }
            // Everything due was taken when the claim came back short: nothing more before the next known due time,
            // an outcome of ours, or new deliveries (other instances' changes: within IdleClaimInterval).
            _dirty = claimed.Deliveries.Count >= asked;
            var poll = now + WebhookWorker.IdleClaimInterval;
            _dueAt = claimed.NextDueAt is { } next && next < poll ? next : poll;
        }
        Pump();
    }

    /// <summary>An outcome of this lane was committed: a later event of the same request may be due now.</summary>
    public void Recorded(DeliveryOutcome outcome)
    {
        lock (_gate)
        {
            _dirty = true;
            if (outcome is DeliveryOutcome.Retry r && r.At < _dueAt)
            {
                _dueAt = r.At;
            }
        }
    }

    /// <summary>An answer arrived (or the send ended): the slot is free for the next queued delivery.</summary>
    public void Answered(bool delivered)
    {
        Interlocked.Increment(ref _answered);
        if (delivered)
        {
            Volatile.Write(ref _failedInARow, 0);
        }
        else
        {
            Interlocked.Increment(ref _failedInARow);
        }
        lock (_gate)
        {
            _inFlight--;
        }
        Pump();
    }

    /// <summary>Hands every queued (unsent) lease back.</summary>
    public void ReleaseQueued()
    {
        lock (_gate)
        {
            while (_ready.TryDequeue(out var item))
            {
                worker.Enqueue(item.Delivery, new DeliveryOutcome.Released());
            }
        }
    }

    private void Pump()
    {
        var ct = worker.Stopping;
        lock (_gate)
        {
            var now = time.GetUtcNow();
            while (_inFlight < options.MaxConcurrencyPerEndpoint && _ready.TryDequeue(out var item))
            {
                if (item.LeaseUntil - now < options.AttemptTimeout * 1.5 || ct.IsCancellationRequested || !Endpoint.Enabled)
                {
                    worker.Enqueue(item.Delivery, new DeliveryOutcome.Released());
                    continue;
                }
                _inFlight++;
                _ = worker.SendAsync(this, item.Delivery, ct);
            }
        }
    }

    /// <summary>Answers per second, smoothed, measured over spans of at least a second.</summary>
    private void UpdatePace()
    {
        var now = time.GetUtcNow();
        var span = now - _rateSince;
        if (span < TimeSpan.FromSeconds(1))
        {
            return;
        }
        var answered = Interlocked.Read(ref _answered);
        var rate = (answered - _answeredAtRateSince) / span.TotalSeconds;
        _perSecond = _perSecond == 0 ? rate : (_perSecond + rate) / 2;
        _answeredAtRateSince = answered;
        _rateSince = now;
    }
}
