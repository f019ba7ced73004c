using System.Data.Common;
using Dapper;
using OpenMint.Core.Minting;
using OpenMint.Storage.Minting;

namespace OpenMint.Storage.Postgres;

/// <summary>
/// Intake on PostgreSQL: id lists and rows as array parameters (a group's rows in one <c>INSERT ... SELECT FROM unnest</c>),
/// every statement prepared on the writer's connection. Writers of several instances run concurrently: ids come from
/// mint_request_id_seq, the unique index on (collection_id, reference_id) with <c>ON CONFLICT DO NOTHING</c> carries the
/// reference-id check (a concurrent insert of the same reference id waits for the other transaction, then is skipped, and
/// the request is decided again with every lookup), and the partial unique index mint_request_live_token does the same for
/// ERC721 token ids (migration 0110); the group path's insert has no <c>ON CONFLICT</c>, so there a taken id fails the
/// statement and the group goes one by one. A deadlock between two writers inserting overlapping ids in different orders
/// costs one request a retry from its savepoint.
/// </summary>
internal sealed class PostgresIntakeStatements(DbConnection connection, TimeProvider time) : IntakeStatements(connection, time)
{
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

    /// <summary>
    /// Every row in one statement: each column travels as one array parameter (binary, a few bytes of framing per row) and
    /// <c>unnest</c> turns the arrays back into rows, so the statement text and its plan are the same for any row count and
    /// the connection keeps it prepared (<see cref="PostgresDialect"/>'s intake pool auto-prepares).
    /// </summary>
    public override Task<int> InsertAsync(IReadOnlyList<IntakeWork> works, RowIds ids, CancellationToken ct) =>
        InsertAsync(works, ids, " ON CONFLICT DO NOTHING", ct);

    /// <summary>
    /// The group's rows without <c>ON CONFLICT</c>: a taken reference id or live token id (or a concurrent insert of one that
    /// commits) fails the statement with a unique violation, and the group falls back to one request at a time. Skipping the
    /// speculative-insertion checks of every unique index roughly halves the statement's server time (BENCHMARKS.md).
    /// </summary>
    public override Task<int> InsertAllAsync(IReadOnlyList<IntakeWork> works, RowIds ids, CancellationToken ct) =>
        InsertAsync(works, ids, "", ct);

    private async Task<int> InsertAsync(IReadOnlyList<IntakeWork> works, RowIds ids, string onConflict, CancellationToken ct)
    {
        var records = works.Count == 1 ? works[0].Records : works.SelectMany(w => w.Records).ToArray();
        var n = records.Length;
        var (command, p) = Command("insert" + onConflict, () =>
            """
            INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at)
            SELECT id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, 'pending', created_at, created_at
            FROM unnest(@p0::bigint[], @p1::bigint[], @p2::text[], @p3::text[], @p4::text[], @p5::text[], @p6::boolean[], @p7::text[], @p8::text[], @p9::text[])
                AS r(id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, created_at)
            """ + onConflict, 10);
        var id = new long[n];
        var collectionId = new long[n];
        var projectId = new string[n];
        var referenceId = new string[n];
        var owner = new string[n];
        var tokenId = new string?[n];
        var byQuantity = new bool[n];
        var amount = new string?[n];
        var metadata = new string?[n];
        var createdAt = new string[n];
        for (var i = 0; i < n; i++)
        {
            var r = records[i];
            id[i] = ids[i];
            collectionId[i] = r.CollectionId;
            projectId[i] = r.ProjectId;
            referenceId[i] = r.ReferenceId;
            owner[i] = r.OwnerAddress;
            tokenId[i] = r.TokenId;
            byQuantity[i] = r.ByQuantity;
            amount[i] = r.Amount;
            metadata[i] = r.MetadataJson;
            createdAt[i] = Core.Time.ToWire(r.CreatedAt);
        }
        object[] values = [id, collectionId, projectId, referenceId, owner, tokenId, byQuantity, amount, metadata, createdAt];
        for (var c = 0; c < values.Length; c++)
        {
            p[c].Value = values[c];
        }
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
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

    /// <summary>The creation events of rows <paramref name="offset"/> .. +<paramref name="count"/> in one statement: event ids (uuid v7, as uuid) and request ids as arrays.</summary>
    protected override async Task AppendCreationEventsAsync(string projectId, RowIds ids, int offset, int count, CancellationToken ct)
    {
        var (command, p) = Command("events", () =>
            """
            INSERT INTO mint_event (event_id, project_id, mint_request_id, status, created_at)
            SELECT e::text, @p1, i, 'pending', @p3 FROM unnest(@p0::uuid[], @p2::bigint[]) AS r(e, i)
            """, 4);
        var requestIds = new long[count];
        for (var i = 0; i < count; i++)
        {
            requestIds[i] = ids[offset + i];
        }
        p[0].Value = NewEventIds(count).ToArray();
        p[1].Value = projectId;
        p[2].Value = requestIds;
        p[3].Value = Core.Time.ToWire(Time.GetUtcNow());
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
