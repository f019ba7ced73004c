namespace OpenMint.Core.Webhooks;

/// <summary>
/// When a failed attempt is tried again: about <see cref="WebhookOptions.FirstRetryDelay"/> after the first failure, doubling
/// after each further one (±20 % jitter), at most <see cref="WebhookOptions.MaxRetryDelay"/> apart, an honoured
/// <c>Retry-After</c> capped the same way; never past <see cref="WebhookOptions.RetryHorizon"/> from when it was queued.
/// </summary>
public static class RetrySchedule
{
    /// <param name="attempts">Attempts made so far, the failed one included (1 after the first).</param>
    /// <param name="jitter">A value in [0, 1) (Random.Shared in production; fixed in tests).</param>
    /// <returns>The instant of the next attempt, or null when the horizon is passed (the delivery fails).</returns>
    public static DateTimeOffset? Next(WebhookOptions options, int attempts, DateTimeOffset queuedAt, DateTimeOffset now, TimeSpan? retryAfter, double jitter)
    {
        var exponent = Math.Clamp(attempts - 1, 0, 40);
        var baseDelay = Math.Min(options.FirstRetryDelay.TotalMilliseconds * Math.Pow(2, exponent), options.MaxRetryDelay.TotalMilliseconds);
        var delay = TimeSpan.FromMilliseconds(Math.Min(baseDelay * (0.8 + 0.4 * jitter), options.MaxRetryDelay.TotalMilliseconds));
        if (retryAfter is { } ra && ra > delay)
        {
            delay = ra < options.MaxRetryDelay ? ra : options.MaxRetryDelay;
        }
        var at = now + delay;
        return at > queuedAt + options.RetryHorizon ? null : at;
    }
}
