using System.Threading.Channels;

namespace OpenMint.Core.Events;

/// <summary>
/// Wakes this instance's webhook worker when something here wrote to the event log (or a delivery answer arrived), so
/// it does not wait for the next poll. Across instances the worker polls (<c>Webhooks:PollInterval</c>).
/// </summary>
public sealed class MintEventSignal
{
    // One pending wake-up at most: further ones before it is taken add nothing.
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _wake.Writer.TryWrite(true);

    /// <summary>True when signalled before <paramref name="timeout"/>.</summary>
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
}
