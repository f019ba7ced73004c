using System.Numerics;

namespace OpenMint.Core.Pipeline;

/// <summary>Bound from configuration section <c>Pipeline</c> and validated on start.</summary>
public sealed class PipelineOptions
{
    public const string Section = "Pipeline";

    /// <summary>How often each signer's sender ticks (confirm, bump, send).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a signer lease lasts without a heartbeat; a crashed instance's lease is taken over after this.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A tx not mined within this time is replaced with the same nonce at higher fees.</summary>
    public TimeSpan BumpAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Unmined txs are checked for being still in the pool at each new block, and at least this often (dropped txs are re-sent).</summary>
    public TimeSpan RebroadcastInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Never pay more than this per gas (wei). Above it a tx is kept as is and an alert logged.</summary>
    public string MaxFeePerGas { get; set; } = "500000000000"; // 500 gwei

    /// <summary>Floor for the priority fee (wei), whatever the node suggests.</summary>
    public string MinPriorityFeePerGas { get; set; } = "0";

    internal BigInteger MaxFeeWei => Wei(MaxFeePerGas);

    internal BigInteger MinTipWei => Wei(MinPriorityFeePerGas);

    private static BigInteger Wei(string value) =>
        BigInteger.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : BigInteger.MinusOne;

    /// <summary>Submissions (signed versions) of one mint tx before its assets fail.</summary>
    public int MaxSubmissions { get; set; } = 5;

    /// <summary>Unmined txs of one signer at a time (consecutive nonces).</summary>
    public int MaxInFlight { get; set; } = 16;

    /// <summary>
    /// On a chain with several minter wallets, a wallet whose oldest pending tx has waited this long takes no new
    /// batches (the other wallets take them) until that nonce moves.
    /// </summary>
    public TimeSpan WalletStuckAfter { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>How often a wallet's balance is read against its chain's low balance (<c>chain add|update --low-balance</c>).</summary>
    public TimeSpan LowBalanceCheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>EIP-7825 per-transaction gas cap; OpenMint caps itself even where the node does not.</summary>
    public long PerTxGasCap { get; set; } = 16_777_216;

    /// <summary>
    /// Gas limit = estimate × this margin. A block builder takes a tx while gas used so far plus the tx's limit fits,
    /// so the margin costs block space only for the last tx of each block (see <see cref="BlockPacker"/>).
    /// </summary>
    public double GasLimitMargin { get; set; } = 1.05;

    /// <summary>Gas limit of a tx estimated at <paramref name="estimate"/>: × <see cref="GasLimitMargin"/>, within <see cref="PerTxGasCap"/>, never below the estimate.</summary>
    internal long GasLimitFor(long estimate) => Math.Max(estimate, Math.Min((long)Math.Ceiling(estimate * GasLimitMargin), PerTxGasCap));

    /// <summary>Mined txs reconciled per tick (the rest next tick), so sending is never starved by bookkeeping.</summary>
    public int ConfirmPerTick { get; set; } = 64;

    /// <summary>Signed txs written ahead in one store transaction before their broadcasts (one fsync for the group).</summary>
    public int WriteAheadGroup { get; set; } = 16;

    /// <summary>eth_estimateGas calls in parallel while preparing new txs.</summary>
    public int PreflightConcurrency { get; set; } = 4;

    /// <summary>Most pending requests read per collection per planning round.</summary>
    public int PlanWindow { get; set; } = 20_000;

    /// <summary>
    /// A partly filled batch waits for company at most this long after its oldest request, and only while it would
    /// still land in the same block (see <see cref="BlockClock"/>): on a chain with a block interval, until shortly
    /// before the next block; while the txs in flight fill the next block, until they no longer do; on an automine
    /// chain not at all. Full batches never wait.
    /// </summary>
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>New txs of a block go out this long before the block is expected (preflight, write-ahead and broadcast fit in it).</summary>
    public TimeSpan BlockSendLead { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>After this long without a successful RPC call, pending requests show the chain as unreachable.</summary>
    public TimeSpan RpcOutageNoticeAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout of one JSON-RPC call.</summary>
    public TimeSpan RpcTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Test-only: with a value, the process stops abruptly (Environment.FailFast) at that point
    /// (after-sign, after-broadcast, after-receipt, mid-reconcile). Also read from OPENMINT_CRASH_AT.
    /// </summary>
    public string? CrashAt { get; set; }

    public IEnumerable<string> Validate()
    {
        if (PollInterval <= TimeSpan.Zero) yield return "Pipeline:PollInterval must be positive, e.g. 00:00:00.5";
        if (LeaseDuration < PollInterval * 3) yield return "Pipeline:LeaseDuration must be at least 3 × Pipeline:PollInterval";
        if (BumpAfter <= TimeSpan.Zero) yield return "Pipeline:BumpAfter must be positive, e.g. 00:00:30";
        if (WalletStuckAfter <= TimeSpan.Zero) yield return "Pipeline:WalletStuckAfter must be positive, e.g. 00:01:30";
        if (LowBalanceCheckInterval <= TimeSpan.Zero) yield return "Pipeline:LowBalanceCheckInterval must be positive, e.g. 00:00:15";
        if (MaxFeeWei <= 0) yield return "Pipeline:MaxFeePerGas must be a positive decimal number of wei, e.g. 500000000000";
        if (MinTipWei < 0) yield return "Pipeline:MinPriorityFeePerGas must be a decimal number of wei, e.g. 1000000000";
        if (MaxSubmissions < 1) yield return "Pipeline:MaxSubmissions must be at least 1";
        if (MaxInFlight < 1) yield return "Pipeline:MaxInFlight must be at least 1";
        if (PerTxGasCap < 100_000) yield return "Pipeline:PerTxGasCap must be at least 100000";
        if (GasLimitMargin is < 1.0 or > 2.0) yield return "Pipeline:GasLimitMargin must be between 1.0 and 2.0";
        if (ConfirmPerTick < 1) yield return "Pipeline:ConfirmPerTick must be at least 1";
        if (WriteAheadGroup < 1) yield return "Pipeline:WriteAheadGroup must be at least 1";
        if (PreflightConcurrency < 1) yield return "Pipeline:PreflightConcurrency must be at least 1";
        if (PlanWindow < 1) yield return "Pipeline:PlanWindow must be at least 1";
        if (MaxBatchWait < TimeSpan.Zero) yield return "Pipeline:MaxBatchWait must not be negative, e.g. 00:00:05";
        if (BlockSendLead < TimeSpan.Zero) yield return "Pipeline:BlockSendLead must not be negative, e.g. 00:00:00.4";
        if (CrashAt is not null && !CrashPoints.Known.Contains(CrashAt)) yield return $"Pipeline:CrashAt must be one of {string.Join(", ", CrashPoints.Known)}";
    }
}
