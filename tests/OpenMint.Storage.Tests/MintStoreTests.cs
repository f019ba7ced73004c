using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Tests;

/// <summary>
/// Intake through IMintStore, written once and run on each backend: group commit, conflicts across concurrent requests,
/// refusals that write nothing, durability across reopening, stable pages.
/// </summary>
public abstract class MintStoreTests<TBackend>(TBackend backend) : StoreSuite<TBackend>(backend) where TBackend : class, IStoreBackend
{
    private ChainConfig _chain = null!;
    private Project _project = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _chain = new ChainConfig(Unique("c"), 31337, ["http://127.0.0.1:1"], null, 0, DateTimeOffset.UtcNow);
        await Store.Tenancy.UpsertChainAsync(_chain, CancellationToken.None);
        _project = new Project(UuidV7.New().ToString(), "p", "0x" + new string('a', 40), 1_000_000, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await Store.Tenancy.CreateProjectAsync(_project, CancellationToken.None);
    }

    private async Task<Collection> NewCollectionAsync(CollectionKind kind = CollectionKind.Erc721) =>
        await Store.Tenancy.AddCollectionAsync(new Collection(0, _chain.Name, "0x" + Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant() + "00000000",
            _project.Id, kind, PresetVariant.Erc721V2, null, true, DateTimeOffset.UtcNow), CancellationToken.None);

    private MintIntake Intake(Collection collection, long limit, params MintAsset[] assets) =>
        new(collection, _chain, assets, limit, assets.Select(a => a.TokenId ?? Guid.NewGuid().ToString()).Distinct().Count());

    private static MintAsset Asset(string reference, string? tokenId = null) => new(reference, "0x00000000000000000000000000000000000000aa", tokenId, null, null);

    [Fact]
    public async Task concurrent_requests_with_one_reference_id_accept_exactly_one()
    {
        var collection = await NewCollectionAsync();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => Store.Minting.AcceptMintRequestsAsync(Intake(collection, 1_000_000, Asset("same"), Asset($"own-{i}")), CancellationToken.None))));
        Assert.Single(outcomes.OfType<MintIntakeOutcome.Accepted>());
        Assert.Equal(19, outcomes.OfType<MintIntakeOutcome.Conflict>().Count(c => c.Field == "reference_id"));
        var page = await Store.Minting.ListMintRequestsAsync(collection.Id, null, null, 200, CancellationToken.None);
        Assert.Equal(2, page.Items.Count); // all or nothing: the losers left no "own-i" rows
    }

    [Fact]
    public async Task concurrent_distinct_requests_are_all_stored_with_the_quota_each_would_have_had_alone()
    {
        var collection = await NewCollectionAsync();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Task.Run(() => Store.Minting.AcceptMintRequestsAsync(
                Intake(collection, 1_000_000, Asset($"d{i}-a", $"{1000 + 2 * i}"), Asset($"d{i}-b", $"{1001 + 2 * i}"), Asset($"d{i}-c")), CancellationToken.None))));
        var accepted = outcomes.Cast<MintIntakeOutcome.Accepted>().ToList();
        // Whether they went one group or several, each request counted its own three units on top of those before it.
        Assert.Equal(Enumerable.Range(1, 40).Select(n => 3L * n), accepted.Select(a => a.Quota.Used).Order());
        var page = await Store.Minting.ListMintRequestsAsync(collection.Id, null, null, 200, CancellationToken.None);
        Assert.Equal(120, page.Items.Count);
        Assert.Equal(120, page.Items.Select(r => r.Id).Distinct().Count());
        Assert.All(page.Items.Where(r => r.ReferenceId.EndsWith("-a", StringComparison.Ordinal)), r => Assert.Equal(r.TokenId, (1000 + 2 * int.Parse(r.ReferenceId[1..^2], System.Globalization.CultureInfo.InvariantCulture)).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(page.Items.Where(r => r.ReferenceId.EndsWith("-c", StringComparison.Ordinal)), r => Assert.True(r.ByQuantity));
    }

    [Fact]
    public async Task concurrent_requests_for_one_erc721_token_id_accept_exactly_one()
    {
        var collection = await NewCollectionAsync();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => Store.Minting.AcceptMintRequestsAsync(Intake(collection, 1_000_000, Asset($"r{i}", "42")), CancellationToken.None))));
        Assert.Single(outcomes.OfType<MintIntakeOutcome.Accepted>());
        Assert.All(outcomes.OfType<MintIntakeOutcome.Conflict>(), c => Assert.Equal("there are already mint requests for token_ids: 42", c.Message));
    }

    [Fact]
    public async Task a_request_that_fails_in_the_database_does_not_sink_the_others_of_its_group()
    {
        var collection = await NewCollectionAsync();
        var missing = collection with { Id = 987_654 }; // violates the collection foreign key
        var tasks = Enumerable.Range(0, 10).Select(i => Task.Run(() => Store.Minting.AcceptMintRequestsAsync(
            Intake(i == 5 ? missing : collection, 1_000_000, Asset($"g{i}")), CancellationToken.None))).ToArray();
        await Assert.ThrowsAnyAsync<Exception>(() => tasks[5]);
        for (var i = 0; i < tasks.Length; i++)
        {
            if (i != 5)
            {
                Assert.IsType<MintIntakeOutcome.Accepted>(await tasks[i]);
            }
        }
        Assert.Equal(9, (await Store.Minting.ListMintRequestsAsync(collection.Id, null, null, 200, CancellationToken.None)).Items.Count);
        await using var c = await Store.Database.OpenConnectionAsync(CancellationToken.None);
        Assert.Equal(0, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM mint_request WHERE collection_id = 987654"));
        Assert.Equal(0, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM mint_event e LEFT JOIN mint_request m ON m.id = e.mint_request_id WHERE m.id IS NULL"));
        Assert.Equal(9, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM mint_event e JOIN mint_request m ON m.id = e.mint_request_id WHERE m.collection_id = @id", new { id = collection.Id }));
    }

    [Fact]
    public async Task a_refused_request_writes_nothing_and_counts_nothing()
    {
        var collection = await NewCollectionAsync();
        Assert.IsType<MintIntakeOutcome.Accepted>(await Store.Minting.AcceptMintRequestsAsync(Intake(collection, 3, Asset("a", "1"), Asset("b", "2")), CancellationToken.None));
        var limited = Assert.IsType<MintIntakeOutcome.RateLimited>(await Store.Minting.AcceptMintRequestsAsync(Intake(collection, 3, Asset("c", "3"), Asset("d", "4")), CancellationToken.None));
        if (limited.Quota.Used == 0)
        {
            return; // the minute rolled over between the calls
        }
        Assert.Equal(2, limited.Quota.Used);
        Assert.Equal(1, limited.Quota.Remaining);
        Assert.IsType<MintIntakeOutcome.Conflict>(await Store.Minting.AcceptMintRequestsAsync(Intake(collection, 3, Asset("a", "9")), CancellationToken.None));
        var accepted = Assert.IsType<MintIntakeOutcome.Accepted>(await Store.Minting.AcceptMintRequestsAsync(Intake(collection, 3, Asset("e", "5")), CancellationToken.None));
        Assert.Equal(0, accepted.Quota.Remaining);
        Assert.Equal(3, (await Store.Minting.ListMintRequestsAsync(collection.Id, null, null, 200, CancellationToken.None)).Items.Count);
    }

    [Fact]
    public async Task accepted_requests_are_there_after_reopening_the_file_with_their_events()
    {
        var collection = await NewCollectionAsync();
        var metadata = "{\"name\":\"x\"}";
        Assert.IsType<MintIntakeOutcome.Accepted>(await Store.Minting.AcceptMintRequestsAsync(
            Intake(collection, 1_000_000, new MintAsset("kept", "0x00000000000000000000000000000000000000bb", "7", null, metadata)), CancellationToken.None));
        var reopened = await OpenMintStorage.OpenAsync(DatabaseValue, CancellationToken.None);
        try
        {
            var record = await reopened.Minting.GetMintRequestAsync(collection.Id, "kept", CancellationToken.None);
            Assert.NotNull(record);
            Assert.Equal(MintStatus.Pending, record.Status);
            Assert.Equal("7", record.TokenId);
            Assert.False(record.ByQuantity);
            Assert.Equal(metadata, record.MetadataJson);
            var payload = (await reopened.Events.ReadMintEventsAsync(0, 1000, CancellationToken.None)).Single(e => e.MintRequestId == record.Id).Payload;
            Assert.Contains("\"reference_id\":\"kept\"", payload, StringComparison.Ordinal);
            Assert.Contains("\"status\":\"pending\"", payload, StringComparison.Ordinal);
        }
        finally
        {
            await reopened.DisposeAsync();
        }
    }

    [Fact]
    public async Task list_pages_never_repeat_or_skip_rows_while_inserts_continue()
    {
        var collection = await NewCollectionAsync();
        for (var i = 0; i < 30; i++)
        {
            await Store.Minting.AcceptMintRequestsAsync(Intake(collection, 1_000_000, Asset($"r{i:00}")), CancellationToken.None);
        }
        var seen = new List<string>();
        string? cursor = null;
        var extra = 0;
        do
        {
            var page = await Store.Minting.ListMintRequestsAsync(collection.Id, MintStatus.Pending, cursor, 7, CancellationToken.None);
            seen.AddRange(page.Items.Select(r => r.ReferenceId));
            cursor = page.NextCursor;
            await Store.Minting.AcceptMintRequestsAsync(Intake(collection, 1_000_000, Asset($"late{extra++}")), CancellationToken.None);
        }
        while (cursor is not null);
        Assert.Equal(Enumerable.Range(0, 30).Reverse().Select(i => $"r{i:00}"), seen);
        Assert.Throws<FormatException>(() => Store.Minting.ListMintRequestsAsync(collection.Id, null, "bm90LWEtY3Vyc29y", 7, CancellationToken.None).GetAwaiter().GetResult());
    }

    [Fact]
    public async Task disposing_the_store_commits_every_request_already_queued_and_refuses_new_ones()
    {
        var collection = await NewCollectionAsync();
        var storage = await OpenMintStorage.OpenAsync(DatabaseValue, Ct);
        var queued = Enumerable.Range(0, 40).Select(i => storage.Minting.AcceptMintRequestsAsync(Intake(collection, 1_000_000, Asset($"q{i}")), Ct)).ToList();
        await storage.DisposeAsync();
        Assert.All(queued, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.All(queued, t => Assert.IsType<MintIntakeOutcome.Accepted>(t.Result));
        await Assert.ThrowsAsync<InvalidOperationException>(() => storage.Minting.AcceptMintRequestsAsync(Intake(collection, 1_000_000, Asset("late")), Ct));
        Assert.Equal(40, (await Store.Minting.ListMintRequestsAsync(collection.Id, null, null, 200, Ct)).Items.Count);
    }

    [Fact]
    public async Task a_host_stopping_drains_the_intake_writer_it_runs_as_a_hosted_service()
    {
        var collection = await NewCollectionAsync();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var storage = await builder.Services.AddOpenMintStorageAsync(DatabaseValue, TimeProvider.System, Ct);
        using var host = builder.Build();
        await host.StartAsync(Ct);
        var minting = host.Services.GetRequiredService<IMintStore>();
        Assert.Same(storage.Minting, minting);
        var queued = Enumerable.Range(0, 40).Select(i => minting.AcceptMintRequestsAsync(Intake(collection, 1_000_000, Asset($"h{i}")), Ct)).ToList();
        await host.StopAsync(Ct);
        Assert.All(queued, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.All(queued, t => Assert.IsType<MintIntakeOutcome.Accepted>(t.Result));
        Assert.Equal(40, (await Store.Minting.ListMintRequestsAsync(collection.Id, null, null, 200, Ct)).Items.Count);
        await storage.DisposeAsync();
    }
}

public sealed class SqliteMintStoreTests(SqliteBackend backend) : MintStoreTests<SqliteBackend>(backend);

public sealed class PostgresMintStoreTests(PostgresBackend backend) : MintStoreTests<PostgresBackend>(backend);
