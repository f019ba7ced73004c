using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>End to end on a real Anvil with the presets: HTTP API in, tokens on chain out.</summary>
public class PipelineAnvilTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private static readonly string[] Owners =
    [
        "0x1000000000000000000000000000000000000001", "0x2000000000000000000000000000000000000002",
        "0x3000000000000000000000000000000000000003", "0x4000000000000000000000000000000000000004",
    ];

    private static string RandomId() => (new BigInteger(Random.Shared.NextInt64(1, long.MaxValue)) * 1000 + Random.Shared.Next(1000)).ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task by_quantity_by_id_and_erc1155_requests_from_concurrent_clients_succeed_with_ids_the_chain_confirms()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment);
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var run = Guid.NewGuid().ToString("N")[..6];
        var posted = new List<(string Collection, string Ref, string Owner, string? TokenId, string? Amount)>();
        var clients = Enumerable.Range(0, 8).Select(client => Task.Run(async () =>
        {
            var mine = new List<(string, string, string, string?, string?)>();
            foreach (var collection in new[] { "erc721", "erc721_v1", "erc721_mint_by_id", "erc1155" })
            {
                var assets = new JsonArray();
                for (var i = 0; i < 5; i++)
                {
                    var owner = Owners[(client + i) % Owners.Length];
                    var reference = $"{run}-{collection}-{client}-{i}";
                    string? tokenId = collection is "erc721_mint_by_id" or "erc1155" ? RandomId() : null;
                    string? amount = collection == "erc1155" ? (1 + i).ToString(CultureInfo.InvariantCulture) : null;
                    assets.Add(PipelineServer.Asset(reference, owner, tokenId, amount, new JsonObject { ["name"] = reference }));
                    mine.Add((collection, reference, owner, tokenId, amount));
                }
                await server.PostAsync(collection, assets);
            }
            return mine;
        })).ToList();
        foreach (var c in clients)
        {
            posted.AddRange(await c);
        }

        var hashes = new HashSet<string>();
        foreach (var (collection, reference, owner, tokenId, amount) in posted)
        {
            var r = await server.WaitAsync(collection, reference);
            Assert.True((string?)r["status"] == "succeeded", $"{collection} {reference}: {r.ToJsonString()}");
            var minted = BigInteger.Parse((string)r["token_id"]!, CultureInfo.InvariantCulture);
            if (tokenId is not null)
            {
                Assert.Equal(tokenId, (string?)r["token_id"]);
            }
            Assert.NotNull((string?)r["activity_id"]);
            hashes.Add((string)r["transaction_hash"]!);
            var contract = server.Address(collection);
            if (collection == "erc1155")
            {
                Assert.Equal(BigInteger.Parse(amount!, CultureInfo.InvariantCulture), await rpc.BalanceOf1155Async(contract, owner, minted));
            }
            else
            {
                Assert.Equal(owner, await rpc.OwnerOfAsync(contract, minted));
            }
            var asset = System.Text.Json.Nodes.JsonNode.Parse(await server.Http.GetStringAsync(
                $"/v1/chains/{PipelineTenancy.ChainName}/collections/{contract}/nfts/{minted}"))!["result"]!;
            Assert.Equal(reference, (string?)asset["name"]);
        }
        // Many callers share transactions: far fewer txs than requests.
        Assert.True(hashes.Count < posted.Count / 4, $"{hashes.Count} transactions for {posted.Count} requests");
        Assert.Equal(posted.Count, await server.ScalarAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));
    }

    [Fact]
    public async Task on_a_chain_that_mines_as_txs_arrive_an_accepted_request_is_sent_without_waiting_for_the_poll()
    {
        // An hour between polls: only the wake-up from intake can send the request (automine Anvil, no block schedule).
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, new Dictionary<string, string?>
        {
            ["Pipeline:PollInterval"] = "01:00:00",
            ["Pipeline:LeaseDuration"] = "03:00:00",
        });
        var reference = "woken-" + Guid.NewGuid().ToString("N")[..8];
        // The worker's first tick (nothing queued yet) takes the wallet's lease; after it, it waits for its poll or a wake-up.
        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM signer_lease WHERE owner_instance IS NOT NULL") > 0,
            "the worker holds the wallet's lease", TimeSpan.FromSeconds(60));
        await Task.Delay(500);
        await server.PostAsync("erc721", [PipelineServer.Asset(reference, Owners[0])]);

        var r = await server.WaitAsync("erc721", reference);
        Assert.True((string?)r["status"] == "succeeded", r.ToJsonString());
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        Assert.Equal(Owners[0], await rpc.OwnerOfAsync(server.Address("erc721"), BigInteger.Parse((string)r["token_id"]!, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task a_collection_without_minter_role_fails_with_the_access_control_message_and_sends_nothing()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment);
        var reference = "no-role-" + Guid.NewGuid().ToString("N")[..6];
        await server.PostAsync("erc721_no_minter_role", [PipelineServer.Asset(reference, Owners[0]), PipelineServer.Asset(reference + "-2", Owners[1])]);
        var r = await server.WaitAsync("erc721_no_minter_role", reference);
        Assert.Equal("failed", (string?)r["status"]);
        Assert.Equal(
            $"transaction failed to build: execution reverted: AccessControl: account {anvil.Deployment.MinterAddress.ToLowerInvariant()} is missing role 0x4d494e5445525f524f4c45" + new string('0', 42),
            (string?)r["error"]?["message"]);
        Assert.Null((string?)r["transaction_hash"]);
        Assert.Equal("failed", (string?)(await server.WaitAsync("erc721_no_minter_role", reference + "-2"))["status"]);
        Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM tx"));
    }

    [Fact]
    public async Task minter_role_revoked_mid_run_fails_new_assets_with_the_reason_and_minting_resumes_once_granted_again()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment);
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var contract = server.Address("erc721_v1");
        var minter = anvil.Deployment.MinterAddress.ToLowerInvariant();
        var run = Guid.NewGuid().ToString("N")[..6];
        await server.PostAsync("erc721_v1", [PipelineServer.Asset($"{run}-before", Owners[0])]);
        Assert.Equal("succeeded", (string?)(await server.WaitAsync("erc721_v1", $"{run}-before"))["status"]);

        var role = "4d494e5445525f524f4c45" + new string('0', 42);
        var account = new string('0', 24) + minter[2..];
        await rpc.CallAsync("eth_sendTransaction", new { from = anvil.Deployment.OwnerAddress, to = contract, data = "0xd547741f" + role + account });
        try
        {
            await server.PostAsync("erc721_v1", [PipelineServer.Asset($"{run}-revoked", Owners[1])]);
            var failed = await server.WaitAsync("erc721_v1", $"{run}-revoked");
            Assert.Equal("failed", (string?)failed["status"]);
            Assert.Equal($"transaction failed to build: execution reverted: AccessControl: account {minter} is missing role 0x{role}", (string?)failed["error"]?["message"]);
        }
        finally
        {
            await rpc.CallAsync("eth_sendTransaction", new { from = anvil.Deployment.OwnerAddress, to = contract, data = "0x3dd1eb61" + account });
        }
        await server.PostAsync("erc721_v1", [PipelineServer.Asset($"{run}-again", Owners[1])]);
        Assert.Equal("succeeded", (string?)(await server.WaitAsync("erc721_v1", $"{run}-again"))["status"]);
    }

    [Fact]
    public async Task a_stuck_transaction_is_replaced_with_the_same_nonce_and_succeeds_once_blocks_are_mined()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, new Dictionary<string, string?> { ["Pipeline:BumpAfter"] = "00:00:01" });
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var reference = "stuck-" + Guid.NewGuid().ToString("N")[..6];
        var before = await rpc.BalanceOfAsync(server.Address("erc721"), Owners[3]);
        await rpc.CallAsync("evm_setAutomine", false);
        try
        {
            await server.PostAsync("erc721", [PipelineServer.Asset(reference, Owners[3])]);
            await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt") >= 2, "the stuck tx to be replaced");
            Assert.Equal("pending", (string?)(await server.GetAsync("erc721", reference))["status"]);
        }
        finally
        {
            await rpc.CallAsync("evm_setAutomine", true);
            await rpc.CallAsync("evm_mine");
        }
        var r = await server.WaitAsync("erc721", reference);
        Assert.Equal("succeeded", (string?)r["status"]);
        Assert.Equal(before + 1, await rpc.BalanceOfAsync(server.Address("erc721"), Owners[3]));
        Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM tx"));
        // The mined version is one of the later attempts, all with the one nonce.
        Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt WHERE hash = @h", new { h = (string)r["transaction_hash"]! }));
    }

    [Fact]
    public async Task a_pending_tx_dropped_from_the_pool_is_sent_again()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment);
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var reference = "dropped-" + Guid.NewGuid().ToString("N")[..6];
        await rpc.CallAsync("evm_setAutomine", false);
        try
        {
            await server.PostAsync("erc721_v1", [PipelineServer.Asset(reference, Owners[2])]);
            await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt WHERE broadcast_at IS NOT NULL") >= 1, "a broadcast attempt");
            await using (var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None))
            {
                var hash = await Dapper.SqlMapper.ExecuteScalarAsync<string>(c, "SELECT hash FROM tx_attempt ORDER BY id DESC LIMIT 1");
                await rpc.CallAsync("anvil_dropTransaction", hash);
                Assert.Equal(System.Text.Json.JsonValueKind.Null, (await rpc.CallAsync("eth_getTransactionByHash", hash)).ValueKind);
            }
            // Wait for the re-send (RebroadcastInterval 0.5 s in tests).
            await Eventually.TrueAsync(async () => Convert.ToInt64((await rpc.CallAsync("txpool_status")).GetProperty("pending").GetString(), 16) > 0,
                "the dropped tx back in the pool", interval: TimeSpan.FromMilliseconds(100));
        }
        finally
        {
            await rpc.CallAsync("evm_setAutomine", true);
            await rpc.CallAsync("evm_mine");
        }
        Assert.Equal("succeeded", (string?)(await server.WaitAsync("erc721_v1", reference))["status"]);
    }

    [Fact]
    public async Task the_node_reports_in_one_batch_which_txs_it_still_has()
    {
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var node = new OpenMint.Core.Pipeline.EthChainNode(new OpenMint.Chain.EthClient(new OpenMint.Chain.JsonRpcClient(new HttpClient(), new Uri(anvil.Deployment.RpcUrl))));
        const string from = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"; // Anvil account 0 (unlocked)
        var mined = (await rpc.CallAsync("eth_sendTransaction", new Dictionary<string, string> { ["from"] = from, ["to"] = from, ["value"] = "0x1" })).GetString()!;
        await rpc.CallAsync("evm_setAutomine", false);
        try
        {
            var pooled = (await rpc.CallAsync("eth_sendTransaction", new Dictionary<string, string> { ["from"] = from, ["to"] = from, ["value"] = "0x2" })).GetString()!;
            var unknown = "0x" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            Assert.Equal([true, true, false], await node.AreKnownAsync([mined, pooled, unknown], CancellationToken.None));
            await rpc.CallAsync("anvil_dropTransaction", pooled);
            Assert.Equal([true, false], await node.AreKnownAsync([mined, pooled], CancellationToken.None));
        }
        finally
        {
            await rpc.CallAsync("evm_setAutomine", true);
        }
    }

    [Fact]
    public async Task a_chain_whose_first_rpc_url_is_down_mints_through_the_next_one()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var deadUrl = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}/";
        listener.Stop(); // nothing listens there any more: connections are refused
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, rpcUrls: [deadUrl, anvil.Deployment.RpcUrl]);
        var reference = "failover-" + Guid.NewGuid().ToString("N")[..6];
        await server.PostAsync("erc721", [PipelineServer.Asset(reference, Owners[1])]);
        var done = await server.WaitAsync("erc721", reference);
        Assert.Equal("succeeded", (string?)done["status"]);
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var tokenId = BigInteger.Parse((string)done["token_id"]!, CultureInfo.InvariantCulture);
        Assert.Equal(Owners[1], await rpc.OwnerOfAsync(server.Address("erc721"), tokenId), ignoreCase: true);
    }
}
