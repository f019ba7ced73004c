namespace OpenMint.Core.Events;

/// <summary>
/// Wakes this instance's webhook worker when something here wrote to the event log (or a delivery answer arrived), so
/// it does not wait for the next poll. Across instances the worker polls (<c>Webhooks:PollInterval</c>).
/// </summary>
public sealed class MintEventSignal : WakeSignal;
