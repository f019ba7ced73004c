using System.Threading.Channels;

namespace OpenMint.Core;

/// <summary>
/// Wakes a worker of this instance that otherwise polls: <see cref="Notify"/> after something it should act on at once,
/// and the worker waits with a timeout (its poll). At most one wake-up is pending: further ones before it is taken add nothing.
/// </summary>
public abstract class WakeSignal
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _wake.Writer.TryWrite(true);

    /// <summary>True when signalled before <paramref name="timeout"/> (real time).</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (_wake.Reader.TryRead(out _))
        {
            return true;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            return await _wake.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false) && _wake.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>True when signalled (now or since the last wait) before <paramref name="timeout"/> has passed on <paramref name="time"/>.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        if (_wake.Reader.TryRead(out _))
        {
            return true;
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var signalled = _wake.Reader.WaitToReadAsync(stop.Token).AsTask();
        var elapsed = Task.Delay(timeout, time, stop.Token);
        await Task.WhenAny(signalled, elapsed).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        ct.ThrowIfCancellationRequested(); // (the loser is cancelled, not faulted: nothing is left unobserved)
        return _wake.Reader.TryRead(out _);
    }
}
