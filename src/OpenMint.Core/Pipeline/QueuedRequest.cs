namespace OpenMint.Core.Pipeline;

/// <summary>
/// A pending request not yet in a batch, as the planner reads it: only what a batch needs (owner, token id, amount, kind)
/// and when it was accepted. The sender reads up to <see cref="PipelineOptions.PlanWindow"/> of these per collection on
/// every plan, so the row is kept this small: a full <see cref="Minting.MintRequestRecord"/> cost ten more columns each.
/// </summary>
public sealed record QueuedRequest(long Id, string OwnerAddress, string? TokenId, bool ByQuantity, string? Amount, DateTimeOffset CreatedAt);
