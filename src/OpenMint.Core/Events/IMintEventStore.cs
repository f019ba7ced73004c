namespace OpenMint.Core.Events;

/// <summary>
/// Reads the <c>mint_event</c> log in delivery order: mint request events and refresh completions. The pipeline, intake
/// and the refresh worker append to it inside their own transactions; readers (webhook delivery, the feed, tests) page
/// through it by sequence number.
/// </summary>
public interface IMintEventStore
{
    /// <summary>
    /// Up to <paramref name="limit"/> events after <paramref name="afterSeq"/> (exclusive), oldest first, each with its
    /// payload (stored, or rebuilt for a mint request's creation event).
    /// </summary>
    Task<IReadOnlyList<EventRecord>> ReadMintEventsAsync(long afterSeq, int limit, CancellationToken ct);

    /// <summary>
    /// Up to <paramref name="limit"/> events of <paramref name="projectId"/> with <paramref name="afterSeq"/> &lt; seq &lt;=
    /// <paramref name="upToSeq"/>, oldest first (the catch-up feed, bounded by the webhook fan-out's gap-free position).
    /// </summary>
    Task<IReadOnlyList<EventRecord>> ReadProjectEventsAsync(string projectId, long afterSeq, long upToSeq, int limit, CancellationToken ct);
}
