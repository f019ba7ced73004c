namespace OpenMint.Core.Pipeline;

/// <summary>
/// Test-only fault injection for the kill -9 tests: at a named point the process ends abruptly,
/// as a power cut would (no finally blocks, no flushes). Off unless configured.
/// </summary>
public sealed class CrashPoints(string? crashAt)
{
    public const string AfterSign = "after-sign";
    public const string AfterBroadcast = "after-broadcast";
    public const string AfterReceipt = "after-receipt";
    public const string MidReconcile = "mid-reconcile";

    /// <summary>A treasury top-up written ahead, not yet sent (only where a chain has a treasury, so not among <see cref="Known"/>).</summary>
    public const string TopUpAfterSign = "top-up-after-sign";

    public static readonly IReadOnlySet<string> Known = new HashSet<string>(StringComparer.Ordinal) { AfterSign, AfterBroadcast, AfterReceipt, MidReconcile };

    public static CrashPoints FromEnvironment(string? configured) =>
        new(configured ?? Environment.GetEnvironmentVariable("OPENMINT_CRASH_AT"));

    public void Hit(string point)
    {
        if (string.Equals(crashAt, point, StringComparison.Ordinal))
        {
            Environment.FailFast("OPENMINT_CRASH_AT=" + point);
        }
    }
}
