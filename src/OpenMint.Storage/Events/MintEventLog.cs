using System.Data.Common;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Events;

/// <summary>
/// Appends to <c>mint_event</c>. Call it inside the same store transaction that changes the
/// request's status, so the log and the state can never disagree.
/// Creation events (written by intake) carry no payload: it is rebuilt from the request row with
/// <see cref="MintEvents.AsCreated"/> when read, and written out before a row is deleted.
/// </summary>
internal static class MintEventLog
{
    /// <param name="time">The store's clock, for the uuid v7 event id (ids increase in commit order).</param>
    /// <param name="now">The instant of the change the event records.</param>
    public static Task AppendAsync(DbConnection connection, DbTransaction tx, MintRequestRecord request, Collection collection, ChainConfig chain,
        TimeProvider time, DateTimeOffset now, CancellationToken ct)
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
                createdAt = Time.ToWire(now),
            }, tx, cancellationToken: ct));
    }

    /// <summary>
    /// Stores the rebuilt payload of the creation events of <paramref name="requestIds"/> (rows of <paramref name="collection"/>),
    /// inside the caller's transaction, before those rows are deleted (a failed request replaced by a new one).
    /// </summary>
    internal static async Task WriteOutCreationPayloadsAsync(DbConnection c, DbTransaction tx, SqlDialect dialect, IReadOnlyList<long> requestIds, Collection collection, ChainConfig chain, CancellationToken ct)
    {
        var events = (await c.QueryAsync<(long Seq, string EventId, long RequestId)>(new CommandDefinition(
            $"SELECT seq, event_id, mint_request_id FROM mint_event WHERE {dialect.In("mint_request_id", "@requestIds")} AND payload IS NULL",
            new { requestIds = requestIds.ToArray() }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        if (events.Count == 0)
        {
            return;
        }
        var rows = (await c.QueryAsync<MintRequestRow>(new CommandDefinition(
            $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {dialect.In("id", "@ids")}", new { ids = events.Select(e => e.RequestId).Distinct().ToArray() },
            tx, cancellationToken: ct)).ConfigureAwait(false)).ToDictionary(r => r.Id, r => r.ToModel());
        foreach (var e in events)
        {
            var payload = MintEvents.Payload(Guid.Parse(e.EventId), MintEvents.AsCreated(rows[e.RequestId]), collection, chain);
            await c.ExecuteAsync(new CommandDefinition("UPDATE mint_event SET payload = @payload WHERE seq = @Seq",
                new { payload, e.Seq }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }
    }
}
