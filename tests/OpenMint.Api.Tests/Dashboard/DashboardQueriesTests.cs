using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using OpenMint.Api.Tests.Pipeline;
using OpenMint.Storage.Dashboard;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Dashboard;

/// <summary>The dashboard's own reads over what a real mint on Anvil leaves in the store, on SQLite and on PostgreSQL.</summary>
public abstract class DashboardQueriesTests(AnvilFixture anvil)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    protected abstract string Database { get; }

    [Fact]
    public async Task a_minted_request_is_found_with_its_events_transaction_and_signed_attempts()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, database: Database);
        var reference = "q-" + Guid.NewGuid().ToString("N")[..10];
        await server.PostAsync("erc721", new JsonArray(PipelineServer.Asset(reference, "0x1000000000000000000000000000000000000001")));
        var minted = await server.WaitAsync("erc721", reference);
        var hash = (string)minted["transaction_hash"]!;
        var queries = new DashboardQueries(server.Store.Database);
        var project = server.Tenancy.Project.Id;
        var collection = server.Tenancy.Collections["erc721"].Id;

        var activity = (await queries.ProjectActivityAsync(DateTimeOffset.UtcNow.AddHours(-1), Ct)).Single(p => p.ProjectId == project);
        Assert.Equal((1L, 1L, 0L), (activity.Accepted, activity.Succeeded, activity.Failed));
        Assert.Equal(0, (await queries.ProjectActivityAsync(DateTimeOffset.UtcNow.AddHours(1), Ct)).Single(p => p.ProjectId == project).Accepted);

        var found = Assert.Single(await queries.ListMintRequestsAsync(new MintRequestFilter(project, collection, "succeeded", reference), Ct));
        Assert.Equal((reference, "succeeded", hash, "anvil"), (found.ReferenceId, found.Status, found.TransactionHash, found.ChainName));
        Assert.Empty(await queries.ListMintRequestsAsync(new MintRequestFilter(null, null, "failed", reference), Ct));
        Assert.Empty(await queries.ListMintRequestsAsync(new MintRequestFilter(null, collection + 1000, null, reference), Ct));

        var detail = (await queries.GetMintRequestAsync(found.Id, Ct))!;
        Assert.Equal(["pending", "succeeded"], detail.Events.Select(e => e.Status));
        var tx = Assert.Single(detail.Txs);
        Assert.Equal(("done", hash, 1L), (tx.State, tx.MinedHash, tx.Requests));
        var attempt = Assert.Single(detail.Attempts, a => a.Hash == hash);
        Assert.Equal(("mint", tx.Id), (attempt.Kind, attempt.TxId));
        Assert.True(BigInteger.Parse(attempt.MaxFeePerGas, CultureInfo.InvariantCulture) >= BigInteger.Parse(attempt.MaxPriorityFeePerGas, CultureInfo.InvariantCulture));
        Assert.Null(await queries.GetMintRequestAsync(-1, Ct));

        Assert.Contains(await queries.ListTransactionsAsync("anvil", "done", 10, Ct), t => t.Id == tx.Id);
        Assert.Empty(await queries.ListTransactionsAsync("anvil", "abandoned", 10, Ct));
        Assert.Equal(tx.MinedBlock, await queries.LastMinedBlockAsync("anvil", Ct));
        Assert.Null(await queries.LastMinedBlockAsync("no-such-chain", Ct));
        Assert.Empty(await queries.ListRefreshesAsync(10, Ct));
        Assert.Empty(await queries.ListRefreshFailuresAsync(Guid.NewGuid().ToString(), 10, Ct));
    }
}

public sealed class SqliteDashboardQueriesTests(AnvilFixture anvil) : DashboardQueriesTests(anvil), IClassFixture<AnvilFixture>
{
    protected override string Database { get; } = TempSqlite.NewDatabaseValue("dashboard-queries");
}

public sealed class PostgresDashboardQueriesTests(AnvilFixture anvil, PostgresFixture postgres) : DashboardQueriesTests(anvil), IClassFixture<AnvilFixture>, IClassFixture<PostgresFixture>
{
    protected override string Database => postgres.ConnectionString;
}
