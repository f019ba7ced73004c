using OpenMint.Core.Minting;

namespace OpenMint.Core.Events;

/// <summary>
/// Reads the <c>mint_event</c> log in delivery order. The pipeline and intake append to it inside their own
/// transactions; readers (webhook delivery, tests) page through it by sequence number.
/// </summary>
public interface IMintEventStore
{
    /// <summary>
    /// Up to <paramref name="limit"/> events after <paramref name="afterSeq"/> (exclusive), oldest first, each with its
    /// <c>imtbl_zkevm_mint_request_updated</c> payload (stored, or rebuilt for a creation event).
    /// </summary>
    Task<IReadOnlyList<MintEventRecord>> ReadMintEventsAsync(long afterSeq, int limit, CancellationToken ct);

    /// <summary>
    /// Up to <paramref name="limit"/> events of <paramref name="projectId"/> with <paramref name="afterSeq"/> &lt; seq &lt;=
    /// <paramref name="upToSeq"/>, oldest first (the catch-up feed, bounded by the webhook fan-out's gap-free position).
    /// </summary>
    Task<IReadOnlyList<MintEventRecord>> ReadProjectEventsAsync(string projectId, long afterSeq, long upToSeq, int limit, CancellationToken ct);
}
