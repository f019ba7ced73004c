namespace OpenMint.Core.Pipeline;

/// <summary>
/// Wakes this instance's pipeline worker when intake here accepted requests. The worker waits for it only while a chain
/// has no block schedule (automine: each tx is mined as it arrives), so those requests go out at once instead of at the
/// next poll; on a chain that makes blocks by itself the worker keeps its poll interval. Across instances the worker polls.
/// </summary>
public sealed class MintQueueSignal : WakeSignal;
