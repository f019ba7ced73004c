using System.Data.Common;
using System.Globalization;
using System.Text;
using Dapper;
using OpenMint.Core.Minting;
using OpenMint.Storage.Minting;

namespace OpenMint.Storage.Postgres;

/// <summary>
/// Intake on PostgreSQL: id lists as array parameters, rows as prepared multi-row VALUES of up to <see cref="ChunkRows"/>
/// rows. Writers of several instances run concurrently: ids come from mint_request_id_seq, the unique index on
/// (collection_id, reference_id) with <c>ON CONFLICT DO NOTHING</c> carries the reference-id check (a concurrent insert of
/// the same reference id waits for the other transaction, then is skipped, and the request is decided again with every
/// lookup), and the partial unique index mint_request_live_token does the same for ERC721 token ids (migration 0110). A
/// deadlock between two writers inserting overlapping ids in different orders costs one request a retry from its savepoint.
/// </summary>
internal sealed class PostgresIntakeStatements(DbConnection connection, TimeProvider time) : IntakeStatements(connection, time)
{
    private const int ChunkRows = 100;

    public override async Task BeginAsync(DbTransaction tx, IReadOnlyList<IntakeWork> group, CancellationToken ct)
    {
        await base.BeginAsync(tx, group, ct).ConfigureAwait(false);
        // Shared with every other intake writer; MintStore's list reads take it exclusively to see ids in commit order.
        await ExecuteAsync(IntakeOrder.WriterLockSql, ct).ConfigureAwait(false);
    }

    public override async Task<RowIds> TakeIdsAsync(int count, CancellationToken ct)
    {
        var (command, p) = Command("take-ids", () => "SELECT nextval('mint_request_id_seq') FROM generate_series(1, @p0)", 1);
        p[0].Value = count;
        var ids = new long[count];
        var n = 0;
        await using (var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                ids[n++] = reader.GetInt64(0);
            }
        }
        Array.Sort(ids);
        return new RowIds(0, ids);
    }

    public override async Task<List<ExistingReference>> ExistingReferencesAsync(long collectionId, IntakeWork work, CancellationToken ct)
    {
        var rows = await Connection.QueryAsync<(long Id, string ReferenceId, string Status)>(new CommandDefinition(
            "SELECT id, reference_id, status FROM mint_request WHERE collection_id = @collectionId AND reference_id = ANY(@referenceIds)",
            new { collectionId, referenceIds = work.ReferenceIds }, Transaction, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => new ExistingReference(r.Id, r.ReferenceId, MintStatusNames.Parse(r.Status))).ToList();
    }

    public override async Task<(List<RequestedToken> Requested, List<string> Minted)> ExistingTokensAsync(long collectionId, IntakeWork work, CancellationToken ct)
    {
        var requested = new List<RequestedToken>();
        var minted = new List<string>();
        var rows = await Connection.QueryAsync<(string, string)>(new CommandDefinition(
            """
            SELECT token_id, status FROM mint_request WHERE collection_id = @collectionId AND token_id = ANY(@tokenIds) AND status IN ('pending', 'succeeded')
            UNION ALL
            SELECT token_id, 'minted' FROM token WHERE collection_id = @collectionId AND token_id = ANY(@tokenIds)
            """,
            new { collectionId, tokenIds = work.CheckedTokenIds }, Transaction, cancellationToken: ct)).ConfigureAwait(false);
        foreach (var (tokenId, status) in rows)
        {
            AddRow(requested, minted, tokenId, status);
        }
        return (requested, minted);
    }

    public override async Task<int> InsertAsync(IReadOnlyList<IntakeWork> works, RowIds ids, CancellationToken ct)
    {
        const int Columns = 10;
        var records = works.Count == 1 ? works[0].Records : works.SelectMany(w => w.Records).ToArray();
        var inserted = 0;
        for (var offset = 0; offset < records.Length; offset += ChunkRows)
        {
            var rows = Math.Min(ChunkRows, records.Length - offset);
            var (command, p) = Command("insert-" + rows.ToString(CultureInfo.InvariantCulture), () => MultiRowSql(
                "INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at) VALUES ",
                rows, Columns, "'pending'", 9) + " ON CONFLICT DO NOTHING", rows * Columns);
            for (var i = 0; i < rows; i++)
            {
                var r = records[offset + i];
                var b = i * Columns;
                p[b].Value = ids[offset + i];
                p[b + 1].Value = r.CollectionId;
                p[b + 2].Value = r.ProjectId;
                p[b + 3].Value = r.ReferenceId;
                p[b + 4].Value = r.OwnerAddress;
                p[b + 5].Value = (object?)r.TokenId ?? DBNull.Value;
                p[b + 6].Value = r.ByQuantity;
                p[b + 7].Value = (object?)r.Amount ?? DBNull.Value;
                p[b + 8].Value = (object?)r.MetadataJson ?? DBNull.Value;
                p[b + 9].Value = Core.Time.ToWire(r.CreatedAt);
            }
            inserted += await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        return inserted;
    }

    public override async Task<bool> AnyTokenTakenAsync(IReadOnlyList<IntakeWork> works, CancellationToken ct)
    {
        var pairs = works.SelectMany(w => w.CheckedTokenIds.Select(t => (w.Intake.Collection.Id, t))).ToArray();
        var (command, p) = Command("any-token", () =>
            """
            SELECT EXISTS (SELECT 1 FROM unnest(@p0::bigint[], @p1::text[]) AS c(collection_id, token_id)
                WHERE EXISTS (SELECT 1 FROM mint_request m WHERE m.collection_id = c.collection_id AND m.token_id = c.token_id AND m.status IN ('pending', 'succeeded'))
                   OR EXISTS (SELECT 1 FROM token k WHERE k.collection_id = c.collection_id AND k.token_id = c.token_id))
            """, 2);
        p[0].Value = pairs.Select(x => x.Item1).ToArray();
        p[1].Value = pairs.Select(x => x.Item2).ToArray();
        return (bool)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    protected override async Task AppendCreationEventsAsync(string projectId, RowIds ids, int offset, int count, CancellationToken ct)
    {
        const int Columns = 5;
        var createdAt = Core.Time.ToWire(Time.GetUtcNow());
        var eventIds = NewEventIds(count).ToArray();
        for (var chunk = 0; chunk < count; chunk += ChunkRows)
        {
            var rows = Math.Min(ChunkRows, count - chunk);
            var (command, p) = Command("event-" + rows.ToString(CultureInfo.InvariantCulture), () => MultiRowSql(
                "INSERT INTO mint_event (event_id, project_id, mint_request_id, status, created_at) VALUES ", rows, Columns, null, 0), rows * Columns);
            for (var i = 0; i < rows; i++)
            {
                var b = i * Columns;
                p[b].Value = eventIds[chunk + i].ToString();
                p[b + 1].Value = projectId;
                p[b + 2].Value = ids[offset + chunk + i];
                p[b + 3].Value = "pending";
                p[b + 4].Value = createdAt;
            }
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>"prefix (@p0,..),(..)"; <paramref name="literal"/> goes before the column at <paramref name="repeatLast"/>, which is written twice (created_at = updated_at).</summary>
    private static string MultiRowSql(string prefix, int rows, int columns, string? literal, int repeatLast)
    {
        var sb = new StringBuilder(prefix);
        for (var r = 0; r < rows; r++)
        {
            sb.Append(r == 0 ? "(" : ",(");
            for (var c = 0; c < columns; c++)
            {
                var name = "@p" + (r * columns + c).ToString(CultureInfo.InvariantCulture);
                if (literal is not null && c == repeatLast)
                {
                    sb.Append(literal).Append(',').Append(name).Append(',').Append(name);
                }
                else
                {
                    sb.Append(name);
                }
                sb.Append(c == columns - 1 ? ")" : ",");
            }
        }
        return sb.ToString();
    }
}
