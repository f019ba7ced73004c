using System.Diagnostics;
using Xunit;

namespace OpenMint.TestSupport;

/// <summary>
/// Polls until a condition holds, and fails the test naming what it waited for (and the last value seen) when the
/// time runs out. The one polling loop of the suite: tests say what they wait for, not how.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        ValueAsync(condition, ok => ok, what, timeout, interval);

    /// <summary>Probes until <paramref name="done"/> accepts the value; returns that value.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }
            if (Stopwatch.GetElapsedTime(started) > limit)
            {
                Assert.Fail($"timed out after {limit.TotalSeconds:0.#} s waiting for {what}; last value: {value}");
            }
            await Task.Delay(interval ?? DefaultInterval);
        }
    }
}
