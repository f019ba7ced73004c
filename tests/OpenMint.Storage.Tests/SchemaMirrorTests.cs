using Dapper;
using OpenMint.TestSupport;

namespace OpenMint.Storage.Tests;

/// <summary>
/// The PostgreSQL migrations mirror the SQLite ones: after all of them, both stores have the same tables, the same
/// columns with the same nullability, and the same named indexes over the same columns, and the same primary keys and
/// unique constraints (the store's SQL is shared).
/// </summary>
public sealed class SchemaMirrorTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task every_table_column_and_index_of_sqlite_exists_alike_on_postgresql()
    {
        var sqlite = await OpenMintStorage.OpenAsync(TempSqlite.NewDatabaseValue("schema-mirror"), Ct);
        var pg = await OpenMintStorage.OpenAsync(postgres.ConnectionString, Ct);
        try
        {
            await using var s = await sqlite.Database.OpenConnectionAsync(Ct);
            await using var p = await pg.Database.OpenConnectionAsync(Ct);

            var sqliteColumns = (await s.QueryAsync<(string Table, string Column, long NotNull, long Pk)>(
                """
                SELECT m.name, c.name, c."notnull", c.pk FROM sqlite_master m, pragma_table_info(m.name) c
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                """)).Select(c => $"{c.Table}.{c.Column} {(c.NotNull != 0 || c.Pk != 0 ? "NOT NULL" : "NULL")}").Order().ToList();
            var pgColumns = (await p.QueryAsync<(string Table, string Column, string Nullable)>(
                "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema()"))
                .Select(c => $"{c.Table}.{c.Column} {(c.Nullable == "NO" ? "NOT NULL" : "NULL")}").Order().ToList();
            Assert.Equal(sqliteColumns, pgColumns);
            Assert.Contains("tx_attempt.raw NOT NULL", pgColumns);

            // Named indexes only: the ones behind PRIMARY KEY and UNIQUE are named by each engine.
            var sqliteIndexes = (await s.QueryAsync<(string Index, string Table, string Column)>(
                """
                SELECT m.name, m.tbl_name, i.name FROM sqlite_master m, pragma_index_info(m.name) i
                WHERE m.type = 'index' AND m.sql IS NOT NULL ORDER BY m.name, i.seqno
                """)).GroupBy(i => (i.Index, i.Table)).Select(g => $"{g.Key.Table}.{g.Key.Index}({string.Join(",", g.Select(i => i.Column))})").Order().ToList();
            var pgIndexes = (await p.QueryAsync<(string Index, string Table, string Column)>(
                """
                SELECT ic.relname, t.relname, a.attname
                FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                JOIN pg_namespace n ON n.oid = t.relnamespace
                JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, pos) ON true
                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                WHERE n.nspname = current_schema() AND NOT x.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
                ORDER BY ic.relname, k.pos
                """)).GroupBy(i => (i.Index, i.Table)).Select(g => $"{g.Key.Table}.{g.Key.Index}({string.Join(",", g.Select(i => i.Column))})").Order().ToList();
            Assert.Equal(sqliteIndexes, pgIndexes);
            Assert.Contains("tx_attempt.tx_attempt_tx(tx_id,id)", pgIndexes);

            var sqliteUniques = (await s.QueryAsync<(string Table, string Index, string Column)>(
                """
                SELECT m.name, l.name, i.name FROM sqlite_master m, pragma_index_list(m.name) l, pragma_index_info(l.name) i
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND l.origin IN ('u', 'pk') ORDER BY m.name, l.name, i.seqno
                """)).GroupBy(i => (i.Table, i.Index)).Select(g => $"{g.Key.Table}({string.Join(",", g.Select(i => i.Column))})").Order().ToList();
            var pgUniques = (await p.QueryAsync<(string Table, string Index, string Column)>(
                """
                SELECT t.relname, c.conname, a.attname
                FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
                JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, pos) ON true
                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                WHERE n.nspname = current_schema() AND c.contype IN ('u', 'p')
                ORDER BY t.relname, c.conname, k.pos
                """)).GroupBy(i => (i.Table, i.Index)).Select(g => $"{g.Key.Table}({string.Join(",", g.Select(i => i.Column))})").Order().ToList();
            // SQLite lists an INTEGER PRIMARY KEY (the rowid) as no index: add it from the columns.
            var rowids = (await s.QueryAsync<(string Table, string Column)>(
                """
                SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND c.pk = 1 AND upper(c.type) = 'INTEGER'
                  AND (SELECT COUNT(*) FROM pragma_table_info(m.name) x WHERE x.pk > 0) = 1
                """)).Select(r => $"{r.Table}({r.Column})");
            Assert.Equal(sqliteUniques.Concat(rowids).Order().ToList(), pgUniques);
            Assert.Contains("tx(chain_name,signer_address,nonce)", pgUniques);
            Assert.Contains("signer_lease(chain_name,signer_address)", pgUniques);
            Assert.Contains("batch(id)", pgUniques);
        }
        finally
        {
            await sqlite.DisposeAsync();
            await pg.DisposeAsync();
        }
    }
}
