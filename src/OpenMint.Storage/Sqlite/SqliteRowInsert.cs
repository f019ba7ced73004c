using System.Text;
using Microsoft.Data.Sqlite;
using OpenMint.Core.Minting;
using OpenMint.Storage.Minting;
using SQLitePCL;

namespace OpenMint.Storage.Sqlite;

/// <summary>
/// The intake group's <c>mint_request</c> rows through SQLite's own prepared statements, bound by position: multi-row
/// <c>INSERT ... VALUES</c> of 64, 8 and 1 rows, prepared once per writer connection. Measured on a 150,000-row table with its
/// indexes: 13–15 µs per row, against 29–30 µs for the same rows as one JSON text unpacked by json_each (half of that was
/// SQLite parsing each row's JSON again for every field it extracts). Microsoft.Data.Sqlite binds parameters by name, which
/// SQLite looks up linearly, so a 640-parameter statement is only cheap when bound by index as here.
/// Runs on the writer's connection inside its transaction, on the writer's thread.
/// </summary>
internal sealed class SqliteRowInsert(SqliteConnection connection) : IDisposable
{
    private const int Columns = 10;
    private static readonly int[] Sizes = [64, 8, 1];
    private readonly sqlite3_stmt?[] _statements = new sqlite3_stmt?[Sizes.Length];

    /// <summary>Inserts <paramref name="works"/>' rows (in order) with the ids of <paramref name="ids"/>; a row whose reference id exists is skipped. Returns the rows inserted.</summary>
    public int Insert(IReadOnlyList<IntakeWork> works, RowIds ids)
    {
        var rows = new List<(MintRequestRecord Record, string CreatedAt)>(works.Count);
        foreach (var work in works)
        {
            var createdAt = Core.Time.ToWire(work.Records[0].CreatedAt);
            rows.AddRange(work.Records.Select(r => (r, createdAt)));
        }
        var inserted = 0;
        var offset = 0;
        for (var s = 0; s < Sizes.Length; s++)
        {
            for (; rows.Count - offset >= Sizes[s]; offset += Sizes[s])
            {
                inserted += Run(s, rows, offset, ids);
            }
        }
        return inserted;
    }

    private int Run(int size, List<(MintRequestRecord Record, string CreatedAt)> rows, int offset, RowIds ids)
    {
        var db = connection.Handle!;
        var statement = _statements[size] ??= Prepare(db, Sizes[size]);
        for (var i = 0; i < Sizes[size]; i++)
        {
            var (r, createdAt) = rows[offset + i];
            var p = i * Columns;
            raw.sqlite3_bind_int64(statement, p + 1, ids[offset + i]);
            raw.sqlite3_bind_int64(statement, p + 2, r.CollectionId);
            raw.sqlite3_bind_text(statement, p + 3, r.ProjectId);
            raw.sqlite3_bind_text(statement, p + 4, r.ReferenceId);
            raw.sqlite3_bind_text(statement, p + 5, r.OwnerAddress);
            BindText(statement, p + 6, r.TokenId);
            raw.sqlite3_bind_int64(statement, p + 7, r.ByQuantity ? 1 : 0);
            BindText(statement, p + 8, r.Amount);
            BindText(statement, p + 9, r.MetadataJson);
            raw.sqlite3_bind_text(statement, p + 10, createdAt);
        }
        var rc = raw.sqlite3_step(statement);
        var changed = raw.sqlite3_changes(db);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, db);
        }
        return changed;
    }

    private static void BindText(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, index);
        }
        else
        {
            raw.sqlite3_bind_text(statement, index, value);
        }
    }

    private static sqlite3_stmt Prepare(sqlite3 db, int rows)
    {
        // ("WHERE true" is not needed: VALUES has no join for the upsert clause to be mistaken for.)
        var sql = new StringBuilder(
            "INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at) VALUES ");
        for (var i = 0; i < rows; i++)
        {
            var p = i * Columns;
            sql.Append(i == 0 ? "(" : ",(");
            for (var c = 1; c <= 9; c++)
            {
                sql.Append('?').Append(p + c).Append(',');
            }
            sql.Append("'pending',?").Append(p + 10).Append(",?").Append(p + 10).Append(')');
        }
        sql.Append(" ON CONFLICT DO NOTHING");
        var rc = raw.sqlite3_prepare_v2(db, sql.ToString(), out var statement);
        if (rc != raw.SQLITE_OK)
        {
            statement.Dispose();
            SqliteException.ThrowExceptionForRC(rc, db);
        }
        return statement;
    }

    public void Dispose()
    {
        for (var i = 0; i < _statements.Length; i++)
        {
            _statements[i]?.Dispose();
            _statements[i] = null;
        }
    }
}
