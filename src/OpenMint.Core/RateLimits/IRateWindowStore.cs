namespace OpenMint.Core.RateLimits;

/// <summary>What one attempt to use a fixed-window limit came to.</summary>
/// <param name="Allowed">True when the amount was counted; false when it would exceed the limit (nothing counted).</param>
/// <param name="Used">Units used in the window after this attempt.</param>
/// <param name="WindowStart">Start of the window (unix seconds).</param>
/// <param name="WindowEnd">When the window rolls over (unix seconds).</param>
public sealed record RateDecision(bool Allowed, long Limit, long Used, long WindowStart, long WindowEnd)
{
    public long Remaining => Math.Max(0, Limit - Used);

    /// <summary>The fixed window (unix seconds) of length <paramref name="window"/> that contains <paramref name="now"/>.</summary>
    public static (long Start, long End) WindowBounds(TimeSpan window, DateTimeOffset now)
    {
        var seconds = (long)window.TotalSeconds;
        var start = now.ToUnixTimeSeconds() / seconds * seconds;
        return (start, start + seconds);
    }
}

/// <summary>Fixed-window limits shared by every instance through the store (table rate_window).</summary>
public interface IRateWindowStore
{
    /// <summary>
    /// Counts <paramref name="amount"/> against <paramref name="scope"/> in the window containing <paramref name="now"/>,
    /// all or nothing: when the total would exceed <paramref name="limit"/> nothing is counted.
    /// </summary>
    Task<RateDecision> TryConsumeRateAsync(string scope, long limit, TimeSpan window, long amount, DateTimeOffset now, CancellationToken ct);

    /// <summary>Reads a window without counting (for headers on requests that do not consume).</summary>
    Task<RateDecision> PeekRateAsync(string scope, long limit, TimeSpan window, DateTimeOffset now, CancellationToken ct);
}
