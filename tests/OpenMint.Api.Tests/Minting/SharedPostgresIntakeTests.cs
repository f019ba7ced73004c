using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api.Auth;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Minting;

/// <summary>Several API instances on one PostgreSQL take requests at the same time (no chain needed: workers off).</summary>
public class SharedPostgresIntakeTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static async Task<(WebApplication App, Uri BaseUrl)> StartAsync(string db)
    {
        var app = await OpenMintServer.BuildAsync(new ServerOptions(db, "http://127.0.0.1:0",
            new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" }, RunWorkers: false), Ct);
        await app.StartAsync(Ct);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(url));
    }

    private static StringContent Body(params JsonObject[] assets) =>
        new(new JsonObject { ["assets"] = new JsonArray(assets) }.ToJsonString(), Encoding.UTF8, "application/json");

    private static JsonObject Asset(string reference, string? tokenId = null)
    {
        var a = new JsonObject { ["reference_id"] = reference, ["owner_address"] = "0x1000000000000000000000000000000000000001" };
        if (tokenId is not null)
        {
            a["token_id"] = tokenId;
        }
        return a;
    }

    [Fact]
    public async Task requests_for_many_projects_through_two_instances_are_all_accepted_with_distinct_increasing_ids_and_a_token_id_is_taken_once()
    {
        var db = await postgres.NewDatabaseAsync();
        var (a, urlA) = await StartAsync(db);
        var (b, urlB) = await StartAsync(db);
        try
        {
            var store = a.Services.GetRequiredService<OpenMintStorage>();
            await store.Tenancy.UpsertChainAsync(new ChainConfig("anvil", 31337, ["http://127.0.0.1:1"], "env:UNUSED", 0, DateTimeOffset.UtcNow), Ct);
            var tenants = new List<(string Key, string Address)>();
            for (var p = 0; p < 6; p++)
            {
                var project = new Project(UuidV7.New().ToString(), "p" + p, "0x" + new string('1', 40), 1_000_000, 5, 30_000, 1000, DateTimeOffset.UtcNow);
                await store.Tenancy.CreateProjectAsync(project, Ct);
                var key = (await ApiKeyIssuer.IssueAsync(store.Tenancy, project.Id, TimeProvider.System, Ct)).Secret;
                var address = "0x" + Guid.NewGuid().ToString("N") + "00000000";
                await store.Tenancy.AddCollectionAsync(new Collection(0, "anvil", address, project.Id, CollectionKind.Erc721, PresetVariant.Erc721MintById, null, true, DateTimeOffset.UtcNow), Ct);
                tenants.Add((key, address));
            }
            var failures = new List<string>();
            var tokenRace = new List<HttpStatusCode>();
            await Task.WhenAll(tenants.Select((t, i) => Task.Run(async () =>
            {
                using var http = new HttpClient { BaseAddress = i % 2 == 0 ? urlA : urlB };
                http.DefaultRequestHeaders.TryAddWithoutValidation("x-immutable-api-key", t.Key);
                var path = $"/v1/chains/anvil/collections/{t.Address}/nfts/mint-requests";
                for (var n = 0; n < 20; n++)
                {
                    using var r = await http.PostAsync(path, Body(Asset($"r{n}", (n + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))));
                    if (r.StatusCode != HttpStatusCode.Accepted)
                    {
                        var body = await r.Content.ReadAsStringAsync();
                        lock (failures)
                        {
                            failures.Add($"{(int)r.StatusCode} {body}");
                        }
                    }
                }
            })).Concat(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                // The same token id of one collection through both instances at once: exactly one is accepted.
                using var http = new HttpClient { BaseAddress = i % 2 == 0 ? urlA : urlB };
                http.DefaultRequestHeaders.TryAddWithoutValidation("x-immutable-api-key", tenants[0].Key);
                using var r = await http.PostAsync($"/v1/chains/anvil/collections/{tenants[0].Address}/nfts/mint-requests", Body(Asset($"race-{i}", "777")));
                lock (tokenRace)
                {
                    tokenRace.Add(r.StatusCode);
                }
            }))));
            Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)) + $" ({failures.Count} failures)");
            Assert.Single(tokenRace, s => s == HttpStatusCode.Accepted);
            Assert.All(tokenRace.Where(s => s != HttpStatusCode.Accepted), s => Assert.Equal(HttpStatusCode.Conflict, s));
            await using var c = await store.Database.OpenConnectionAsync(Ct);
            var ids = (await Dapper.SqlMapper.QueryAsync<long>(c, "SELECT id FROM mint_request ORDER BY id")).ToList();
            Assert.Equal(121, ids.Count);
            Assert.Equal(ids.Count, ids.Distinct().Count());
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    [Fact]
    public async Task concurrent_writers_on_three_instances_with_overlapping_reference_ids_accept_each_once_and_every_request_whole_or_not_at_all()
    {
        var db = await postgres.NewDatabaseAsync();
        var hosts = new List<(WebApplication App, Uri Url)>();
        for (var i = 0; i < 3; i++)
        {
            hosts.Add(await StartAsync(db));
        }
        try
        {
            var store = hosts[0].App.Services.GetRequiredService<OpenMintStorage>();
            await store.Tenancy.UpsertChainAsync(new ChainConfig("anvil", 31337, ["http://127.0.0.1:1"], "env:UNUSED", 0, DateTimeOffset.UtcNow), Ct);
            var project = new Project(UuidV7.New().ToString(), "overlap", "0x" + new string('1', 40), 1_000_000, 5, 30_000, 1000, DateTimeOffset.UtcNow);
            await store.Tenancy.CreateProjectAsync(project, Ct);
            var key = (await ApiKeyIssuer.IssueAsync(store.Tenancy, project.Id, TimeProvider.System, Ct)).Secret;
            var address = "0x" + Guid.NewGuid().ToString("N") + "00000000";
            await store.Tenancy.AddCollectionAsync(new Collection(0, "anvil", address, project.Id, CollectionKind.Erc721, PresetVariant.Erc721MintById, null, true, DateTimeOffset.UtcNow), Ct);

            // 12 clients (4 per instance), 15 requests each of 4 assets whose reference ids come from one pool of 60, so
            // requests overlap within and across instances; a reference's token id is fixed, each request has its own owner.
            var outcomes = new List<(string Owner, string[] References, HttpStatusCode Status)>();
            await Task.WhenAll(Enumerable.Range(0, 12).Select(client => Task.Run(async () =>
            {
                var random = new Random(client);
                using var http = new HttpClient { BaseAddress = hosts[client % 3].Url };
                http.DefaultRequestHeaders.TryAddWithoutValidation("x-immutable-api-key", key);
                for (var n = 0; n < 15; n++)
                {
                    var owner = "0x" + (client * 100 + n + 1).ToString("x40", System.Globalization.CultureInfo.InvariantCulture);
                    var references = Enumerable.Range(0, 60).OrderBy(_ => random.Next()).Take(4).ToArray();
                    var assets = references.Select(k => new JsonObject
                    {
                        ["reference_id"] = $"ref-{k}", ["owner_address"] = owner, ["token_id"] = (k + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    }).ToArray();
                    using var r = await http.PostAsync($"/v1/chains/anvil/collections/{address}/nfts/mint-requests", Body(assets));
                    lock (outcomes)
                    {
                        outcomes.Add((owner, references.Select(k => $"ref-{k}").ToArray(), r.StatusCode));
                    }
                }
            })));

            Assert.All(outcomes, o => Assert.Contains(o.Status, new[] { HttpStatusCode.Accepted, HttpStatusCode.Conflict }));
            var accepted = outcomes.Where(o => o.Status == HttpStatusCode.Accepted).ToList();
            Assert.NotEmpty(accepted);
            Assert.Contains(outcomes, o => o.Status == HttpStatusCode.Conflict);
            await using var c = await store.Database.OpenConnectionAsync(Ct);
            var rows = (await Dapper.SqlMapper.QueryAsync<(long Id, string ReferenceId, string Owner)>(c,
                "SELECT id, reference_id, owner_address FROM mint_request")).ToList();
            Assert.Equal(rows.Count, rows.Select(r => r.ReferenceId).Distinct().Count());
            Assert.Equal(rows.Count, rows.Select(r => r.Id).Distinct().Count());
            Assert.Equal(accepted.Sum(o => o.References.Length), rows.Count);
            var byReference = rows.ToDictionary(r => r.ReferenceId, r => r.Owner);
            Assert.All(accepted, o => Assert.All(o.References, reference => Assert.Equal(o.Owner, byReference[reference])));
            Assert.Equal(rows.Count, await Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM mint_event"));
            Assert.Equal(rows.Count, await Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COALESCE(SUM(used), 0) FROM rate_window"));
        }
        finally
        {
            foreach (var (app, _) in hosts)
            {
                await app.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task a_group_holding_a_stored_reference_id_or_a_taken_token_id_falls_back_and_decides_each_request_as_if_alone()
    {
        // The group path inserts without ON CONFLICT: a stored reference id (even of a failed request) or a live token id
        // fails its insert, the group rolls back and every request is decided on its own.
        var db = await postgres.NewDatabaseAsync();
        await using var store = await OpenMintStorage.OpenAsync(db, Ct);
        var chain = new ChainConfig("anvil", 31337, ["http://127.0.0.1:1"], "env:UNUSED", 0, DateTimeOffset.UtcNow);
        await store.Tenancy.UpsertChainAsync(chain, Ct);
        var project = new Project(UuidV7.New().ToString(), "fallback", "0x" + new string('1', 40), 1_000_000, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await store.Tenancy.CreateProjectAsync(project, Ct);
        var collection = await store.Tenancy.AddCollectionAsync(new Collection(0, "anvil", "0x" + Guid.NewGuid().ToString("N") + "00000000", project.Id,
            CollectionKind.Erc721, PresetVariant.Erc721MintById, null, true, DateTimeOffset.UtcNow), Ct);
        Task<MintIntakeOutcome> Accept(string reference, string tokenId) => store.Minting.AcceptMintRequestsAsync(
            new MintIntake(collection, chain, [new MintAsset(reference, "0x00000000000000000000000000000000000000aa", tokenId, null, null)], 1_000_000, 1), Ct);
        Assert.IsType<MintIntakeOutcome.Accepted>(await Accept("kept", "1"));
        Assert.IsType<MintIntakeOutcome.Accepted>(await Accept("gone", "2"));
        await using var c = await store.Database.OpenConnectionAsync(Ct);
        await Dapper.SqlMapper.ExecuteAsync(c, "UPDATE mint_request SET status = 'failed' WHERE reference_id = 'gone'");

        // Round 0 holds a stored reference id, round 1 the failed request's, round 2 a live token id; the rest of each round is
        // new. Many requests at once, so that the writer takes them in groups.
        for (var round = 0; round < 3; round++)
        {
            var outcomes = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() => (round, i) switch
            {
                (0, 0) => Accept("kept", "100"),
                (1, 0) => Accept("gone", "2"),
                (2, 0) => Accept("taken", "1"),
                _ => Accept($"n{round}-{i}", (1000 + round * 100 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            })));
            switch (round)
            {
                case 0:
                    Assert.Equal("reference_id", Assert.IsType<MintIntakeOutcome.Conflict>(outcomes[0]).Field);
                    break;
                case 1:
                    Assert.IsType<MintIntakeOutcome.Accepted>(outcomes[0]);
                    break;
                default:
                    Assert.Equal("there are already mint requests for token_ids: 1", Assert.IsType<MintIntakeOutcome.Conflict>(outcomes[0]).Message);
                    break;
            }
            Assert.All(outcomes.Skip(1), o => Assert.IsType<MintIntakeOutcome.Accepted>(o));
        }

        var rows = (await Dapper.SqlMapper.QueryAsync<(string ReferenceId, string TokenId, string Status)>(c,
            "SELECT reference_id, token_id, status FROM mint_request")).ToList();
        Assert.Equal(2 + 3 * 29, rows.Count);
        Assert.Equal(("kept", "1", "pending"), rows.Single(r => r.ReferenceId == "kept"));
        Assert.Equal(("gone", "2", "pending"), rows.Single(r => r.ReferenceId == "gone"));
        Assert.Equal(0, await Dapper.SqlMapper.ExecuteScalarAsync<long>(c,
            "SELECT COUNT(*) FROM mint_request m WHERE NOT EXISTS (SELECT 1 FROM mint_event e WHERE e.mint_request_id = m.id)"));
        // Event ids travel as uuid and are stored as text: the uuid v7 text of the writer's Guid, increasing in commit order.
        var eventIds = (await Dapper.SqlMapper.QueryAsync<string>(c, "SELECT event_id FROM mint_event ORDER BY seq")).ToList();
        Assert.All(eventIds, id => Assert.Equal(Guid.Parse(id).ToString(), id));
        Assert.All(eventIds, id => Assert.Equal('7', id[14]));
        Assert.Equal(eventIds.Order(StringComparer.Ordinal), eventIds);
        // Units: the two first requests, the replacement and 29 new per round; nothing for a refusal.
        Assert.Equal(2 + 1 + 3 * 29, await Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COALESCE(SUM(used), 0) FROM rate_window"));
    }
}
