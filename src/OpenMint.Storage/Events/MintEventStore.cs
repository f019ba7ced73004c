using Dapper;
using OpenMint.Core;
using OpenMint.Core.Events;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using OpenMint.Core.Webhooks;

namespace OpenMint.Storage.Events;

/// <summary>Reads the mint_event log (IMintEventStore); mint request creation events get their payload rebuilt from the request row.</summary>
internal sealed class MintEventStore(Database db, ITenancyStore tenancy) : IMintEventStore
{
    public Task<IReadOnlyList<EventRecord>> ReadMintEventsAsync(long afterSeq, int limit, CancellationToken ct) =>
        ReadAsync("seq > @afterSeq", new { afterSeq, limit }, ct);

    public Task<IReadOnlyList<EventRecord>> ReadProjectEventsAsync(string projectId, long afterSeq, long upToSeq, int limit, CancellationToken ct) =>
        ReadAsync("project_id = @projectId AND seq > @afterSeq AND seq <= @upToSeq", new { projectId, afterSeq, upToSeq, limit }, ct);

    private async Task<IReadOnlyList<EventRecord>> ReadAsync(string where, object args, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        // One snapshot for the events and their requests, without the write lock every writer (intake included) waits for:
        // the webhook worker reads here on each of its rounds.
        await using var tx = await db.Dialect.BeginReadAsync(c, ct).ConfigureAwait(false);
        var events = (await c.QueryAsync<EventRow>(new CommandDefinition(
            $"""
            SELECT seq AS Seq, event_id AS EventId, project_id AS ProjectId, mint_request_id AS MintRequestId, status AS Status,
                   payload AS Payload, created_at AS CreatedAt, event_name AS EventName
            FROM mint_event WHERE {where} ORDER BY seq LIMIT @limit
            """,
            args, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var creations = events.Where(e => e.Payload is null).Select(e => e.MintRequestId).Distinct().ToArray();
        var rows = new Dictionary<long, MintRequestRecord>();
        foreach (var chunk in creations.Chunk(500))
        {
            foreach (var row in await c.QueryAsync<MintRequestRow>(new CommandDefinition(
                $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {db.Dialect.In("id", "@chunk")}", new { chunk = db.Dialect.List(chunk) }, tx, cancellationToken: ct)).ConfigureAwait(false))
            {
                rows[row.Id] = row.ToModel();
            }
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);

        var collections = new Dictionary<long, Collection>();
        var chains = new Dictionary<string, ChainConfig>(StringComparer.Ordinal);
        var result = new List<EventRecord>(events.Count);
        foreach (var e in events)
        {
            var payload = e.Payload;
            if (payload is null)
            {
                // Written out before a row is deleted, so the row of a payload-less event is always there.
                var row = rows[e.MintRequestId];
                if (!collections.TryGetValue(row.CollectionId, out var collection))
                {
                    collection = await tenancy.GetCollectionByIdAsync(row.CollectionId, ct).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"collection {row.CollectionId} of mint request {row.Id} is missing");
                    collections[row.CollectionId] = collection;
                }
                if (!chains.TryGetValue(collection.ChainName, out var chain))
                {
                    chain = await tenancy.GetChainAsync(collection.ChainName, ct).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"chain {collection.ChainName} of collection {collection.Id} is missing");
                    chains[collection.ChainName] = chain;
                }
                payload = MintEvents.Payload(Guid.Parse(e.EventId), MintEvents.AsCreated(row), collection, chain);
            }
            result.Add(new EventRecord(e.Seq, Guid.Parse(e.EventId), e.ProjectId, e.EventName ?? WebhookEvents.MintRequestUpdated, e.MintRequestId,
                e.EventName is null ? MintStatusNames.Parse(e.Status) : null, payload,
                Time.FromWire(e.CreatedAt)));
        }
        return result;
    }

    private sealed class EventRow
    {
        public long Seq { get; set; }
        public string EventId { get; set; } = "";
        public string ProjectId { get; set; } = "";
        public long MintRequestId { get; set; }
        public string Status { get; set; } = "";
        public string? Payload { get; set; }
        public string CreatedAt { get; set; } = "";
        public string? EventName { get; set; }
    }
}
