using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Storage.Sqlite;

namespace OpenMint.Storage.Pipeline;

/// <summary>
/// The pipeline's set-based statements: one statement per batch, not one per request, so its write transactions (which
/// hold SQLite's single write lock while intake waits) stay short. What differs between the dialects is how a list of ids
/// or rows travels: SQLite gets one JSON text parameter unpacked by json_each (binding one parameter per id costs SQLite a
/// linear lookup per name), PostgreSQL one array per column, unpacked by unnest or ANY.
/// </summary>
internal abstract class PipelineStatements(SqlDialect dialect)
{
    public static PipelineStatements For(SqlDialect dialect) => dialect.MigrationsFolder == "postgres" ? new Postgres(dialect) : new Sqlite(dialect);

    /// <summary>
    /// Each pending request of the batch (<c>@batchId</c>) gets its token id, the tx's hash (<c>@hash</c>) and its fresh activity
    /// id (rows bound with <see cref="AddSucceeded"/>); returns the changed rows.
    /// </summary>
    public string Succeed =>
        $"""
        UPDATE mint_request SET status = 'succeeded', token_id = t.token, transaction_hash = @hash, activity_id = t.activity, error_message = NULL, updated_at = @now
        FROM {SucceededRows}
        WHERE mint_request.id = t.request AND {dialect.NoIndex("mint_request.batch_id")} = @batchId AND {dialect.NoIndex("mint_request.status")} = 'pending'
        RETURNING {MintRequestRow.Columns}
        """;

    /// <summary>A relation <c>t(request, token, activity)</c> of the rows <see cref="AddSucceeded"/> bound.</summary>
    protected abstract string SucceededRows { get; }

    public abstract void AddSucceeded(DynamicParameters p, IReadOnlyList<TokenAssignment> tokens, IReadOnlyList<string> activities);

    /// <summary>Each minted token's row: inserted, or given its new owner and (when the mint had any) its metadata.</summary>
    public string UpsertTokens =>
        $"""
        INSERT INTO token (collection_id, token_id, owner_address, metadata, created_at, updated_at)
        SELECT t.collection, t.token, t.owner, t.metadata, @now, @now FROM {TokenRows} WHERE true
        ON CONFLICT (collection_id, token_id) DO UPDATE SET owner_address = excluded.owner_address,
            metadata = COALESCE(excluded.metadata, token.metadata), updated_at = excluded.updated_at
        """;

    /// <summary>A relation <c>t(collection, token, owner, metadata)</c> of the rows <see cref="AddTokens"/> bound.</summary>
    protected abstract string TokenRows { get; }

    /// <summary>One row per token id: callers fold requests that share an id first (PostgreSQL refuses to upsert a row twice in one statement).</summary>
    public abstract void AddTokens(DynamicParameters p, IReadOnlyList<MintRequestRecord> rows);

    /// <summary>mint_event rows in the order given (seq follows it: json_each walks an array in order, as intake's event insert relies on), created at <c>@now</c>.</summary>
    public abstract string AppendEvents { get; }

    public abstract void AddEvents(DynamicParameters p, Guid[] eventIds, IReadOnlyList<MintRequestRecord> requests, IReadOnlyList<string> payloads);

    private sealed class Sqlite(SqlDialect dialect) : PipelineStatements(dialect)
    {
        protected override string SucceededRows => "(SELECT value ->> 0 AS request, value ->> 1 AS token, value ->> 2 AS activity FROM json_each(@rows)) AS t";

        public override void AddSucceeded(DynamicParameters p, IReadOnlyList<TokenAssignment> tokens, IReadOnlyList<string> activities) =>
            p.Add("rows", SqliteJson.Array(tokens.Count * 80, w =>
            {
                for (var i = 0; i < tokens.Count; i++)
                {
                    w.WriteStartArray();
                    w.WriteNumberValue(tokens[i].RequestId);
                    w.WriteStringValue(tokens[i].TokenId);
                    w.WriteStringValue(activities[i]);
                    w.WriteEndArray();
                }
            }));

        protected override string TokenRows =>
            "(SELECT value ->> 0 AS collection, value ->> 1 AS token, value ->> 2 AS owner, value ->> 3 AS metadata FROM json_each(@rows)) AS t";

        public override void AddTokens(DynamicParameters p, IReadOnlyList<MintRequestRecord> rows) =>
            p.Add("rows", SqliteJson.Array(rows.Count * 160, w =>
            {
                foreach (var r in rows)
                {
                    w.WriteStartArray();
                    w.WriteNumberValue(r.CollectionId);
                    w.WriteStringValue(r.TokenId);
                    w.WriteStringValue(r.OwnerAddress);
                    w.WriteStringValue(r.MetadataJson);
                    w.WriteEndArray();
                }
            }));

        public override string AppendEvents =>
            """
            INSERT INTO mint_event (event_id, project_id, mint_request_id, status, payload, created_at)
            SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, @now FROM json_each(@rows)
            """;

        public override void AddEvents(DynamicParameters p, Guid[] eventIds, IReadOnlyList<MintRequestRecord> requests, IReadOnlyList<string> payloads) =>
            p.Add("rows", SqliteJson.Array(requests.Count * 900, w =>
            {
                for (var i = 0; i < requests.Count; i++)
                {
                    w.WriteStartArray();
                    w.WriteStringValue(eventIds[i].ToString());
                    w.WriteStringValue(requests[i].ProjectId);
                    w.WriteNumberValue(requests[i].Id);
                    w.WriteStringValue(requests[i].Status.ToWire());
                    w.WriteStringValue(payloads[i]);
                    w.WriteEndArray();
                }
            }));
    }

    private sealed class Postgres(SqlDialect dialect) : PipelineStatements(dialect)
    {
        protected override string SucceededRows => "unnest(@requests, @tokens, @activities) AS t(request, token, activity)";

        public override void AddSucceeded(DynamicParameters p, IReadOnlyList<TokenAssignment> tokens, IReadOnlyList<string> activities)
        {
            p.Add("requests", tokens.Select(t => t.RequestId).ToArray());
            p.Add("tokens", tokens.Select(t => t.TokenId).ToArray());
            p.Add("activities", activities.ToArray());
        }

        protected override string TokenRows => "unnest(@collections, @tokens, @owners, @metadata) AS t(collection, token, owner, metadata)";

        public override void AddTokens(DynamicParameters p, IReadOnlyList<MintRequestRecord> rows)
        {
            p.Add("collections", rows.Select(r => r.CollectionId).ToArray());
            p.Add("tokens", rows.Select(r => r.TokenId).ToArray());
            p.Add("owners", rows.Select(r => r.OwnerAddress).ToArray());
            p.Add("metadata", rows.Select(r => r.MetadataJson).ToArray());
        }

        public override string AppendEvents =>
            """
            INSERT INTO mint_event (event_id, project_id, mint_request_id, status, payload, created_at)
            SELECT e.id, e.project, e.request, e.status, e.payload, @now
            FROM unnest(@eventIds, @projects, @requests, @statuses, @payloads) WITH ORDINALITY AS e(id, project, request, status, payload, n) ORDER BY e.n
            """;

        public override void AddEvents(DynamicParameters p, Guid[] eventIds, IReadOnlyList<MintRequestRecord> requests, IReadOnlyList<string> payloads)
        {
            p.Add("eventIds", eventIds.Select(e => e.ToString()).ToArray());
            p.Add("projects", requests.Select(r => r.ProjectId).ToArray());
            p.Add("requests", requests.Select(r => r.Id).ToArray());
            p.Add("statuses", requests.Select(r => r.Status.ToWire()).ToArray());
            p.Add("payloads", payloads.ToArray());
        }
    }
}
