using System.Threading.Channels;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// Wakes this instance's pipeline worker when intake here accepted requests. The worker waits for it only while a chain
/// has no block schedule (automine: each tx is mined as it arrives), so those requests go out at once instead of at the
/// next poll; on a chain that makes blocks by itself the worker keeps its poll interval. Across instances the worker polls.
/// </summary>
public sealed class MintQueueSignal
{
    // One pending wake-up at most: further ones before it is taken add nothing (a Notify costs one failed TryWrite).
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _wake.Writer.TryWrite(true);

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
