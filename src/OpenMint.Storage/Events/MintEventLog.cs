using System.Data.Common;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using OpenMint.Storage.Pipeline;

namespace OpenMint.Storage.Events;

/// <summary>
/// Appends to <c>mint_event</c>. Call it inside the same store transaction that changes the
/// request's status, so the log and the state can never disagree.
/// Creation events (written by intake) carry no payload: it is rebuilt from the request row with
/// <see cref="MintEvents.AsCreated"/> when read, and written out before a row is deleted.
/// </summary>
internal static class MintEventLog
{
    /// <summary>
    /// One event per request of <paramref name="requests"/>, in that order (their seq follows it), in one statement; each
    /// payload is built from the request's row as it is now.
    /// </summary>
    /// <param name="time">The store's clock, for the uuid v7 event ids (ids increase in commit order).</param>
    /// <param name="now">The instant of the change the events record.</param>
    public static Task AppendAsync(DbConnection connection, DbTransaction tx, PipelineStatements sql, IReadOnlyList<MintRequestRecord> requests, Collection collection,
        ChainConfig chain, TimeProvider time, DateTimeOffset now, CancellationToken ct)
    {
        if (requests.Count == 0)
        {
            return Task.CompletedTask;
        }
        var eventIds = new Guid[requests.Count];
        UuidV7.Fill(eventIds, time);
        var payloads = new string[requests.Count];
        for (var i = 0; i < payloads.Length; i++)
        {
            payloads[i] = MintEvents.Payload(eventIds[i], requests[i], collection, chain);
        }
        var p = new DynamicParameters();
        p.Add("now", Time.ToWire(now));
        sql.AddEvents(p, eventIds, requests, payloads);
        return connection.ExecuteAsync(new CommandDefinition(sql.AppendEvents, p, tx, cancellationToken: ct));
    }

    /// <summary>The creation events (payload not written out) of the requests in the list <c>@requestIds</c> (index mint_event_request).</summary>
    internal static string CreationEventsSql(SqlDialect dialect) =>
        $"SELECT seq, event_id, mint_request_id FROM mint_event WHERE {dialect.In("mint_request_id", "@requestIds")} AND payload IS NULL";

    /// <summary>
    /// Stores the rebuilt payload of the creation events of <paramref name="requestIds"/> (rows of <paramref name="collection"/>),
    /// inside the caller's transaction, before those rows are deleted (a failed request replaced by a new one).
    /// </summary>
    internal static async Task WriteOutCreationPayloadsAsync(DbConnection c, DbTransaction tx, SqlDialect dialect, IReadOnlyList<long> requestIds, Collection collection, ChainConfig chain, CancellationToken ct)
    {
        var events = (await c.QueryAsync<(long Seq, string EventId, long RequestId)>(new CommandDefinition(
            CreationEventsSql(dialect),
            new { requestIds = dialect.List(requestIds) }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        if (events.Count == 0)
        {
            return;
        }
        var rows = (await c.QueryAsync<MintRequestRow>(new CommandDefinition(
            $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {dialect.In("id", "@ids")}", new { ids = dialect.List(events.Select(e => e.RequestId).Distinct()) },
            tx, cancellationToken: ct)).ConfigureAwait(false)).ToDictionary(r => r.Id, r => r.ToModel());
        foreach (var e in events)
        {
            var payload = MintEvents.Payload(Guid.Parse(e.EventId), MintEvents.AsCreated(rows[e.RequestId]), collection, chain);
            await c.ExecuteAsync(new CommandDefinition("UPDATE mint_event SET payload = @payload WHERE seq = @Seq",
                new { payload, e.Seq }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }
    }
}
