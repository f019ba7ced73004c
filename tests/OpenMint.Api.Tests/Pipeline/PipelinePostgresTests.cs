using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using Dapper;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>
/// End to end with the store on a real PostgreSQL: HTTP API in, tokens on a real Anvil out. Each test has its own
/// fresh database (no rows of other tests), and fresh owner addresses so on-chain balances count only its mints.
/// </summary>
public class PipelinePostgresTests(AnvilFixture anvil, PostgresFixture postgres) : IClassFixture<AnvilFixture>, IClassFixture<PostgresFixture>
{
    private static readonly string[] Collections = ["erc721", "erc721_v1", "erc721_mint_by_id", "erc1155"];

    private sealed record Posted(string Collection, string Ref, string Owner, string? TokenId, string? Amount);

    [Fact]
    public async Task by_quantity_by_id_and_erc1155_requests_succeed_on_postgres_with_ids_the_chain_confirms()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, database: await postgres.NewDatabaseAsync());
        var owners = NewOwners(3);
        var run = Guid.NewGuid().ToString("N")[..6];
        var clients = Enumerable.Range(0, 4).Select(client => Task.Run(async () =>
        {
            var mine = new List<Posted>();
            foreach (var collection in Collections)
            {
                var (assets, posted) = Assets(run, collection, client, owners, 4);
                await server.PostAsync(collection, assets);
                mine.AddRange(posted);
            }
            return mine;
        })).ToList();
        var all = (await Task.WhenAll(clients)).SelectMany(p => p).ToList();

        var hashes = await AssertMintedOnceAsync(server, all, owners);
        Assert.True(hashes.Count < all.Count / 2, $"{hashes.Count} transactions for {all.Count} requests"); // callers share txs
        await AssertNoncesUsedOnceAsync(server, hashes);
    }

    [Fact]
    public async Task two_hosts_on_one_postgres_mint_every_request_exactly_once_without_reusing_a_nonce()
    {
        var db = await postgres.NewDatabaseAsync();
        // Hosts come and go while requests keep arriving: the lease changes hands at least once (a stopped host
        // releases it), and the new holder finishes whatever the old one had in flight.
        var first = await PipelineServer.StartAsync(anvil.Deployment, database: db);
        var hosts = new List<PipelineServer> { first, await PipelineServer.StartAsync(anvil.Deployment, database: db, shared: first.Tenancy) };
        var owners = NewOwners(3);
        var run = Guid.NewGuid().ToString("N")[..6];
        var all = new List<Posted>();
        var leaseOwners = new HashSet<string>();
        try
        {
            for (var phase = 0; phase < 3; phase++)
            {
                // Both live hosts take requests (one client each, in turn) while both pipelines compete for the signer.
                for (var round = 0; round < 2; round++)
                {
                    var batches = await Task.WhenAll(hosts.Select((host, h) => Task.Run(async () =>
                    {
                        var mine = new List<Posted>();
                        foreach (var collection in Collections)
                        {
                            var (assets, posted) = Assets(run, collection, phase * 100 + round * 10 + h, owners, 3);
                            await host.PostAsync(collection, assets);
                            mine.AddRange(posted);
                        }
                        return mine;
                    })));
                    all.AddRange(batches.SelectMany(b => b));
                    leaseOwners.UnionWith(await LeaseOwnersAsync(hosts[^1]));
                }
                if (phase < 2)
                {
                    hosts.Add(await PipelineServer.StartAsync(anvil.Deployment, database: db, shared: first.Tenancy));
                    var leaving = hosts[0];
                    hosts.RemoveAt(0);
                    await leaving.DisposeAsync();
                    leaseOwners.UnionWith(await LeaseOwnersAsync(hosts[^1]));
                }
            }

            var hashes = await AssertMintedOnceAsync(hosts[^1], all, owners);
            leaseOwners.UnionWith(await LeaseOwnersAsync(hosts[^1]));
            Assert.True(leaseOwners.Count >= 2, $"the lease never changed hands: {string.Join(", ", leaseOwners)}");
            await AssertNoncesUsedOnceAsync(hosts[^1], hashes);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    private static List<string> NewOwners(int count) =>
        Enumerable.Range(0, count).Select(_ => "0x" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "0000000" + Random.Shared.Next(1, 10)).ToList();

    private static string RandomId() => (new BigInteger(Random.Shared.NextInt64(1, long.MaxValue)) * 1000 + Random.Shared.Next(1000)).ToString(CultureInfo.InvariantCulture);

    private static (JsonArray Assets, List<Posted> Posted) Assets(string run, string collection, int client, IReadOnlyList<string> owners, int count)
    {
        var assets = new JsonArray();
        var posted = new List<Posted>();
        for (var i = 0; i < count; i++)
        {
            var owner = owners[(client + i) % owners.Count];
            var reference = $"{run}-{collection}-{client}-{i}";
            string? tokenId = collection is "erc721_mint_by_id" or "erc1155" ? RandomId() : null;
            string? amount = collection == "erc1155" ? (1 + i).ToString(CultureInfo.InvariantCulture) : null;
            assets.Add(PipelineServer.Asset(reference, owner, tokenId, amount, new JsonObject { ["name"] = reference }));
            posted.Add(new Posted(collection, reference, owner, tokenId, amount));
        }
        return (assets, posted);
    }

    /// <summary>
    /// Every request succeeded once: its token is on chain with its owner (ERC1155: exactly its amount), each owner's
    /// ERC721 balance is exactly its number of requests (a by-quantity mint sent twice would show), and the store
    /// has exactly one succeeded event per request. Returns the tx hashes.
    /// </summary>
    private async Task<HashSet<string>> AssertMintedOnceAsync(PipelineServer server, IReadOnlyList<Posted> all, IReadOnlyList<string> owners)
    {
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var hashes = new HashSet<string>();
        var minted = new HashSet<(string, BigInteger)>();
        foreach (var p in all)
        {
            var r = await server.WaitAsync(p.Collection, p.Ref);
            Assert.True((string?)r["status"] == "succeeded", $"{p.Collection} {p.Ref}: {r.ToJsonString()}");
            var tokenId = BigInteger.Parse((string)r["token_id"]!, CultureInfo.InvariantCulture);
            if (p.TokenId is not null)
            {
                Assert.Equal(p.TokenId, (string?)r["token_id"]);
            }
            Assert.True(minted.Add((p.Collection, tokenId)), $"{p.Collection} token {tokenId} given to two requests");
            hashes.Add((string)r["transaction_hash"]!);
            var contract = server.Address(p.Collection);
            if (p.Collection == "erc1155")
            {
                Assert.Equal(BigInteger.Parse(p.Amount!, CultureInfo.InvariantCulture), await rpc.BalanceOf1155Async(contract, p.Owner, tokenId));
            }
            else
            {
                Assert.Equal(p.Owner, await rpc.OwnerOfAsync(contract, tokenId));
            }
        }
        foreach (var collection in Collections.Where(c => c != "erc1155"))
        {
            foreach (var owner in owners)
            {
                Assert.Equal(all.Count(p => p.Collection == collection && p.Owner == owner), (int)await rpc.BalanceOfAsync(server.Address(collection), owner));
            }
        }
        Assert.Equal(all.Count, await server.ScalarAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));
        Assert.Equal(all.Count, await server.ScalarAsync("SELECT COUNT(DISTINCT mint_request_id) FROM mint_event WHERE status = 'succeeded'"));
        return hashes;
    }

    /// <summary>Each stored tx has its own nonce, and each mined hash is the minter's tx with exactly that nonce on chain.</summary>
    private async Task AssertNoncesUsedOnceAsync(PipelineServer server, IReadOnlySet<string> hashes)
    {
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        await using var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        var txs = (await c.QueryAsync<(long Nonce, string State, string? Hash)>("SELECT nonce, state, mined_hash FROM tx ORDER BY nonce")).ToList();
        Assert.All(txs, t => Assert.Equal("done", t.State));
        Assert.Equal(txs.Count, txs.Select(t => t.Nonce).Distinct().Count());
        Assert.Equal(hashes.Order(), txs.Select(t => t.Hash!).Order());
        foreach (var t in txs)
        {
            var onChain = await rpc.CallAsync("eth_getTransactionByHash", t.Hash);
            Assert.Equal(anvil.Deployment.MinterAddress.ToLowerInvariant(), onChain.GetProperty("from").GetString()!.ToLowerInvariant());
            Assert.Equal(t.Nonce, Convert.ToInt64(onChain.GetProperty("nonce").GetString(), 16));
        }
    }

    private static async Task<IEnumerable<string>> LeaseOwnersAsync(PipelineServer server)
    {
        await using var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        return (await c.QueryAsync<string?>("SELECT owner_instance FROM signer_lease")).OfType<string>().ToList();
    }
}
