using Dapper;

namespace OpenMint.Storage.Telemetry;

/// <summary>Pending mint requests of one chain: <c>queued</c> (in no transaction yet) or <c>in_flight</c>.</summary>
public sealed record QueueCount(string Chain, string Status, long Count);

/// <summary>
/// The read behind the <c>openmint_mint_queue</c> gauge: pending requests per chain, counted over the
/// <c>mint_request_queue</c> index (status first), so its cost follows the queue, not the table.
/// </summary>
public sealed class QueueCounts(Database database)
{
    public async Task<IReadOnlyList<QueueCount>> ReadAsync(CancellationToken ct)
    {
        await using var c = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<(string Chain, long InFlight, long Count)>(new CommandDefinition(
            """
            SELECT col.chain_name, CASE WHEN r.batch_id IS NULL THEN 0 ELSE 1 END, COUNT(*)
            FROM mint_request r JOIN collection col ON col.id = r.collection_id
            WHERE r.status = 'pending'
            GROUP BY col.chain_name, CASE WHEN r.batch_id IS NULL THEN 0 ELSE 1 END
            """, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => new QueueCount(r.Chain, r.InFlight == 0 ? "queued" : "in_flight", r.Count)).ToList();
    }
}
