using System.Data.Common;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Events;
using OpenMint.Core.Webhooks;

namespace OpenMint.Storage.Events;

/// <summary>
/// Appends <c>openmint_metadata_refresh_completed</c> to the event log. Call it inside the transaction that may complete
/// the refresh (sets <c>completed_at</c>): it writes the event once, when the refresh is complete, into the refresh's
/// project's log, so the webhook fan-out and the catch-up feed carry it like a mint request event.
/// </summary>
internal static class RefreshEventLog
{
    public static async Task AppendIfCompletedAsync(DbConnection c, DbTransaction tx, long refreshSeq, CancellationToken ct)
    {
        var r = await c.QuerySingleOrDefaultAsync<CompletedRow>(new CommandDefinition(
            """
            SELECT r.refresh_id AS RefreshId, r.project_id AS ProjectId, r.collection_address AS CollectionAddress, r.token_count AS TokenCount,
                   r.succeeded AS Succeeded, r.failed AS Failed, r.completed_at AS CompletedAt, c.chain_name AS ChainName
            FROM metadata_refresh r JOIN collection c ON c.id = r.collection_id
            WHERE r.seq = @refreshSeq AND r.completed_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM mint_event e WHERE e.event_name = @name AND e.mint_request_id = r.seq)
            """,
            new { refreshSeq, name = WebhookEvents.RefreshCompleted }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (r is null)
        {
            return;
        }
        var eventId = UuidV7.New();
        var pending = Math.Max(0, r.TokenCount - r.Succeeded - r.Failed);
        await c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO mint_event (event_id, project_id, mint_request_id, status, payload, created_at, event_name)
            VALUES (@eventId, @ProjectId, @refreshSeq, 'completed', @payload, @CompletedAt, @name)
            """,
            new
            {
                eventId = eventId.ToString(), r.ProjectId, refreshSeq, r.CompletedAt, name = WebhookEvents.RefreshCompleted,
                payload = RefreshEvents.Payload(eventId, r.ChainName, Guid.Parse(r.RefreshId), r.CollectionAddress, r.Succeeded, r.Failed, pending, r.CompletedAt),
            }, tx, cancellationToken: ct)).ConfigureAwait(false);
    }

    private sealed class CompletedRow
    {
        public string RefreshId { get; set; } = "";
        public string ProjectId { get; set; } = "";
        public string CollectionAddress { get; set; } = "";
        public long TokenCount { get; set; }
        public long Succeeded { get; set; }
        public long Failed { get; set; }
        public string CompletedAt { get; set; } = "";
        public string ChainName { get; set; } = "";
    }
}
