using Dapper;
using OpenMint.Storage.Dashboard;
using OpenMint.Storage.Events;
using OpenMint.Storage.Minting;

namespace OpenMint.Storage.Tests;

/// <summary>
/// SQLite plans without statistics (no ANALYZE): statements that look rows up by a list of ids must say how they reach them,
/// or a big table is walked. Checked on the migrated schema with EXPLAIN QUERY PLAN.
/// </summary>
public sealed class SqliteQueryPlanTests(SqliteBackend backend) : StoreSuite<SqliteBackend>(backend)
{
    private async Task<string> PlanAsync(string sql, object parameters)
    {
        await using var c = await Store.Database.OpenConnectionAsync(Ct);
        var rows = await c.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>("EXPLAIN QUERY PLAN " + sql, parameters);
        return string.Join("\n", rows.Select(r => r.Detail));
    }

    [Fact]
    public async Task a_replaced_requests_creation_events_and_a_requests_events_are_found_by_the_request_index()
    {
        var creation = await PlanAsync(MintEventLog.CreationEventsSql(Store.Database.Dialect), new { requestIds = Store.Database.Dialect.List(new long[] { 1, 2 }) });
        Assert.Contains("INDEX mint_event_request", creation);
        Assert.DoesNotContain("SCAN mint_event", creation);
        var page = await PlanAsync(DashboardQueries.EventsOfRequestSql, new { id = 1L });
        Assert.Contains("INDEX mint_event_request", page);
        Assert.DoesNotContain("SCAN mint_event", page);
    }

    [Fact]
    public async Task the_txs_of_a_request_and_the_requests_of_each_tx_are_found_by_index()
    {
        var plan = await PlanAsync(DashboardQueries.TxsOfRequestSql, new { batchId = 1L, hash = "0x01" });
        Assert.Contains("INDEX tx_batch", plan);
        Assert.DoesNotContain("SCAN t", plan); // every tx
        Assert.Contains("SEARCH m USING COVERING INDEX mint_request_queue (status=? AND batch_id=?)", plan);
        Assert.DoesNotContain("SCAN m", plan); // every request, once per tx listed
    }

    [Fact]
    public async Task replaced_failed_requests_are_deleted_by_id_not_by_walking_every_failed_request()
    {
        var plan = await PlanAsync(IntakeStatements.DeleteFailedSql(Store.Database.Dialect), new { ids = Store.Database.Dialect.List(new long[] { 1, 2 }) });
        Assert.Contains("SEARCH mint_request USING INTEGER PRIMARY KEY", plan);
        Assert.DoesNotContain("mint_request_queue", plan);
    }
}
