using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Storage.Minting;

namespace OpenMint.Storage.Sqlite;

/// <summary>
/// Intake on SQLite: a group's rows are bound by position into prepared multi-row INSERTs (<see cref="SqliteRowInsert"/>); id
/// lists, and a single request's rows, travel as one JSON parameter each (<see cref="SqliteIntakeJson"/>), unpacked by
/// json_each in C, far cheaper than binding named parameters per row (SQLite looks each named parameter up linearly).
/// </summary>
internal sealed class SqliteIntakeStatements(DbConnection connection, TimeProvider time) : IntakeStatements(connection, time)
{
    private readonly SqliteRowInsert _rows = new((Microsoft.Data.Sqlite.SqliteConnection)connection);
    private char[] _eventIdsJson = new char[128 * 39 + 2];

    private static SqliteIntakeJson Json(IntakeWork work) => (SqliteIntakeJson)work.DialectParameters!;

    public override async Task<List<ExistingReference>> ExistingReferencesAsync(long collectionId, IntakeWork work, CancellationToken ct)
    {
        var (command, p) = Command("refs", () =>
            "SELECT id, reference_id, status FROM mint_request WHERE collection_id = @p0 AND reference_id IN (SELECT value FROM json_each(@p1))", 2);
        p[0].Value = collectionId;
        p[1].Value = Json(work).ReferenceIds;
        var result = new List<ExistingReference>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result.Add(new ExistingReference(reader.GetInt64(0), reader.GetString(1), MintStatusNames.Parse(reader.GetString(2))));
        }
        return result;
    }

    public override async Task<(List<RequestedToken> Requested, List<string> Minted)> ExistingTokensAsync(long collectionId, IntakeWork work, CancellationToken ct)
    {
        var requested = new List<RequestedToken>();
        var minted = new List<string>();
        var (command, p) = Command("tokens", () =>
            """
            SELECT token_id, status FROM mint_request WHERE collection_id = @p0 AND token_id IN (SELECT value FROM json_each(@p1)) AND status IN ('pending', 'succeeded')
            UNION ALL
            SELECT token_id, 'minted' FROM token WHERE collection_id = @p0 AND token_id IN (SELECT value FROM json_each(@p1))
            """, 2);
        p[0].Value = collectionId;
        p[1].Value = Json(work).TokenIds;
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            AddRow(requested, minted, reader.GetString(0), reader.GetString(1));
        }
        return (requested, minted);
    }

    public override Task<int> InsertAsync(IReadOnlyList<IntakeWork> works, RowIds ids, CancellationToken ct)
    {
        if (works.Count > 1)
        {
            return InsertGroupAsync(works, ids, ct);
        }
        // ("WHERE true" lets the parser tell the upsert clause from a join constraint.)
        var (command, p) = Command("insert-json", () =>
            "INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at) " +
            "SELECT @p0 + key, @p1, @p2, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, 'pending', @p3, @p3 FROM json_each(@p4) WHERE true " +
            "ON CONFLICT DO NOTHING", 5);
        var first = works[0].Records[0];
        p[0].Value = ids.First;
        p[1].Value = first.CollectionId;
        p[2].Value = first.ProjectId;
        p[3].Value = Core.Time.ToWire(first.CreatedAt);
        p[4].Value = Json(works[0]).Rows;
        return command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Every request of a group: its rows bound by position into multi-row statements (<see cref="SqliteRowInsert"/>).</summary>
    private Task<int> InsertGroupAsync(IReadOnlyList<IntakeWork> works, RowIds ids, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(_rows.Insert(works, ids));
    }

    public override async Task<bool> AnyTokenTakenAsync(IReadOnlyList<IntakeWork> works, CancellationToken ct)
    {
        var (command, p) = Command("any-token", () =>
            """
            WITH r AS MATERIALIZED (SELECT value ->> 0 AS c, value -> 1 AS tokens FROM json_each(@p0))
            SELECT EXISTS (SELECT 1 FROM r, json_each(r.tokens) t
                WHERE EXISTS (SELECT 1 FROM mint_request m WHERE m.collection_id = r.c AND m.token_id = t.value AND m.status IN ('pending', 'succeeded'))
                   OR EXISTS (SELECT 1 FROM token k WHERE k.collection_id = r.c AND k.token_id = t.value))
            """, 1);
        var json = new StringBuilder(works.Count * 32).Append('[');
        foreach (var work in works.Where(w => w.CheckedTokenIds.Length > 0))
        {
            json.Append(json.Length == 1 ? "[" : ",[").Append(work.Intake.Collection.Id).Append(',').Append(Json(work).TokenIds).Append(']');
        }
        p[0].Value = json.Append(']').ToString();
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture) != 0;
    }

    protected override async Task AppendCreationEventsAsync(string projectId, RowIds ids, int offset, int count, CancellationToken ct)
    {
        var createdAt = Core.Time.ToWire(Time.GetUtcNow());
        var eventIds = NewEventIds(count);
        var (command, p) = Command("event-json", () =>
            "INSERT INTO mint_event (event_id, project_id, mint_request_id, status, created_at) " +
            "SELECT value, @p0, @p1 + key, 'pending', @p2 FROM json_each(@p3)", 4);
        p[0].Value = projectId;
        p[1].Value = ids[offset];
        p[2].Value = createdAt;
        p[3].Value = EventIdsJson(eventIds);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public override ValueTask DisposeAsync()
    {
        _rows.Dispose(); // before the connection closes
        return base.DisposeAsync();
    }

    /// <summary>["id","id",...] without an encoder: uuids need no escaping.</summary>
    private string EventIdsJson(ReadOnlySpan<Guid> ids)
    {
        if (_eventIdsJson.Length < ids.Length * 39 + 2)
        {
            _eventIdsJson = new char[ids.Length * 39 + 2];
        }
        var buffer = _eventIdsJson;
        var n = 0;
        buffer[n++] = '[';
        for (var i = 0; i < ids.Length; i++)
        {
            if (i > 0)
            {
                buffer[n++] = ',';
            }
            buffer[n++] = '"';
            ids[i].TryFormat(buffer.AsSpan(n), out var written);
            n += written;
            buffer[n++] = '"';
        }
        buffer[n++] = ']';
        return new string(buffer, 0, n);
    }
}
