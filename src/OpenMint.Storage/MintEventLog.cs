using System.Data.Common;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage;

/// <summary>
/// Appends to <c>mint_event</c>. Call it inside the same store transaction that changes the
/// request's status, so the log and the state can never disagree.
/// Creation events (written by intake) carry no payload: it is rebuilt from the request row with
/// <see cref="MintEvents.AsCreated"/> when read, and written out before a row is deleted.
/// </summary>
public static class MintEventLog
{
    public static Task AppendAsync(DbConnection connection, DbTransaction tx, MintRequestRecord request, Collection collection, ChainConfig chain, TimeProvider time, CancellationToken ct)
    {
        var eventId = UuidV7.New(time);
        return connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO mint_event (event_id, project_id, mint_request_id, status, payload, created_at)
            VALUES (@eventId, @projectId, @requestId, @status, @payload, @createdAt)
            """,
            new
            {
                eventId = eventId.ToString(),
                projectId = request.ProjectId,
                requestId = request.Id,
                status = request.Status.ToWire(),
                payload = MintEvents.Payload(eventId, request, collection, chain),
                createdAt = Time.ToWire(time.GetUtcNow()),
            }, tx, cancellationToken: ct));
    }

    /// <summary>
    /// Stores the rebuilt payload of the creation events of <paramref name="requestIds"/> (rows of <paramref name="collection"/>),
    /// inside the caller's transaction, before those rows are deleted (a failed request replaced by a new one).
    /// </summary>
    internal static async Task WriteOutCreationPayloadsAsync(DbConnection c, DbTransaction tx, IReadOnlyList<long> requestIds, Collection collection, ChainConfig chain, CancellationToken ct)
    {
        var events = (await c.QueryAsync<(long Seq, string EventId, long RequestId)>(new CommandDefinition(
            $"SELECT seq, event_id, mint_request_id FROM mint_event WHERE {SqlList.In(c, "mint_request_id", "@requestIds")} AND payload IS NULL",
            new { requestIds = requestIds.ToArray() }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        if (events.Count == 0)
        {
            return;
        }
        var rows = (await c.QueryAsync<MintRequestRow>(new CommandDefinition(
            $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {SqlList.In(c, "id", "@ids")}", new { ids = events.Select(e => e.RequestId).Distinct().ToArray() },
            tx, cancellationToken: ct)).ConfigureAwait(false)).ToDictionary(r => r.Id, r => r.ToModel());
        foreach (var e in events)
        {
            var payload = MintEvents.Payload(Guid.Parse(e.EventId), MintEvents.AsCreated(rows[e.RequestId]), collection, chain);
            await c.ExecuteAsync(new CommandDefinition("UPDATE mint_event SET payload = @payload WHERE seq = @Seq",
                new { payload, e.Seq }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }
    }
}

public sealed partial class OpenMintStore
{
    /// <summary>
    /// The event log in delivery order from <paramref name="afterSeq"/> (exclusive), each with its
    /// <c>imtbl_zkevm_mint_request_updated</c> payload: stored, or rebuilt for a creation event.
    /// </summary>
    public async Task<IReadOnlyList<MintEventRecord>> ReadMintEventsAsync(long afterSeq, int limit, CancellationToken ct)
    {
        await using var c = await Db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
        var events = (await c.QueryAsync<EventRow>(new CommandDefinition(
            """
            SELECT seq AS Seq, event_id AS EventId, project_id AS ProjectId, mint_request_id AS MintRequestId, status AS Status,
                   payload AS Payload, created_at AS CreatedAt
            FROM mint_event WHERE seq > @afterSeq ORDER BY seq LIMIT @limit
            """,
            new { afterSeq, limit }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var creations = events.Where(e => e.Payload is null).Select(e => e.MintRequestId).Distinct().ToArray();
        var rows = new Dictionary<long, MintRequestRecord>();
        foreach (var chunk in creations.Chunk(500))
        {
            foreach (var row in await c.QueryAsync<MintRequestRow>(new CommandDefinition(
                $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {SqlList.In(c, "id", "@chunk")}", new { chunk }, tx, cancellationToken: ct)).ConfigureAwait(false))
            {
                rows[row.Id] = row.ToModel();
            }
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);

        var collections = new Dictionary<long, Collection>();
        var chains = new Dictionary<string, ChainConfig>(StringComparer.Ordinal);
        var result = new List<MintEventRecord>(events.Count);
        foreach (var e in events)
        {
            var payload = e.Payload;
            if (payload is null)
            {
                // Written out before a row is deleted, so the row of a payload-less event is always there.
                var row = rows[e.MintRequestId];
                if (!collections.TryGetValue(row.CollectionId, out var collection))
                {
                    collection = await GetCollectionByIdAsync(row.CollectionId, ct).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"collection {row.CollectionId} of mint request {row.Id} is missing");
                    collections[row.CollectionId] = collection;
                }
                if (!chains.TryGetValue(collection.ChainName, out var chain))
                {
                    chain = await GetChainAsync(collection.ChainName, ct).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"chain {collection.ChainName} of collection {collection.Id} is missing");
                    chains[collection.ChainName] = chain;
                }
                payload = MintEvents.Payload(Guid.Parse(e.EventId), MintEvents.AsCreated(row), collection, chain);
            }
            result.Add(new MintEventRecord(e.Seq, Guid.Parse(e.EventId), e.ProjectId, e.MintRequestId, MintStatusNames.Parse(e.Status), payload, Time.FromWire(e.CreatedAt)));
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
    }
}
