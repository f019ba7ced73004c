using OpenMint.Core.Events;

namespace OpenMint.Core.Webhooks;

/// <summary>
/// Moves logged events into the delivery outbox: one delivery per (event, enabled endpoint of the event's project that wants
/// it), queued in one transaction with the new position (the worker's round, <see cref="WebhookRound"/>). It only moves over a gap-free prefix of the log: a missing sequence
/// number may belong to a transaction still in flight (PostgreSQL), so at a gap it waits for the log's writers, after which a
/// gap is final (a rolled-back insert).
/// </summary>
public sealed class WebhookFanOut(IMintEventStore events, IWebhookStore store)
{
    public const int BatchSize = 500;

    /// <summary>
    /// The next batch to fan out (read, not yet written), or null when there is nothing new (or nothing to write: no endpoint
    /// enabled, see <see cref="IWebhookStore.PositionFollowsLogWithoutEndpoints"/>). The endpoints are read from the
    /// store for each batch, not taken from the worker's periodically refreshed list: an event committed right after an
    /// endpoint was added still reaches it.
    /// </summary>
    public async Task<WebhookFanOutStep?> PrepareAsync(CancellationToken ct)
    {
        if (store.PositionFollowsLogWithoutEndpoints && !await AnyEnabledAsync(ct).ConfigureAwait(false))
        {
            return null; // nothing to queue, and the position covers the log without a write: not even read
        }
        var from = await store.GetFanOutPositionAsync(ct).ConfigureAwait(false);
        var batch = await events.ReadMintEventsAsync(from, BatchSize, ct).ConfigureAwait(false);
        if (batch.Count == 0)
        {
            return null;
        }
        var contiguous = ContiguousCount(batch, from);
        if (contiguous < batch.Count)
        {
            // Everything below the highest number seen is final once the writers of that moment are done.
            var seen = batch[^1].Seq;
            await store.WaitForEventWritersAsync(ct).ConfigureAwait(false);
            batch = (await events.ReadMintEventsAsync(from, BatchSize, ct).ConfigureAwait(false)).Where(e => e.Seq <= seen).ToList();
        }
        else
        {
            batch = batch.Take(contiguous).ToList();
        }
        var endpoints = (await store.ListEndpointsAsync(null, ct).ConfigureAwait(false)).Where(e => e.Enabled).ToList();
        if (endpoints.Count == 0 && store.PositionFollowsLogWithoutEndpoints)
        {
            return null; // nothing to queue, and the position covers these events without a write
        }
        var byProject = endpoints.ToLookup(e => e.ProjectId, StringComparer.Ordinal);
        var deliveries = new List<NewWebhookDelivery>();
        foreach (var e in batch)
        {
            foreach (var endpoint in byProject[e.ProjectId].Where(x => x.Wants(e.EventName)))
            {
                deliveries.Add(new NewWebhookDelivery(endpoint.Id, e.Seq, e.EventId.ToString(), e.EventName, e.OrderingKey, e.Payload));
            }
        }
        return new WebhookFanOutStep(from, batch[^1].Seq, deliveries);
    }

    private async Task<bool> AnyEnabledAsync(CancellationToken ct) =>
        (await store.ListEndpointsAsync(null, ct).ConfigureAwait(false)).Any(e => e.Enabled);

    private static int ContiguousCount(IReadOnlyList<EventRecord> batch, long from)
    {
        var n = 0;
        while (n < batch.Count && batch[n].Seq == from + n + 1)
        {
            n++;
        }
        return n;
    }
}
