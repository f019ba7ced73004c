using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using Dapper;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>Shared steps of the bad-condition tests: fresh owners, waiting on conditions, exactly-once checks on chain.</summary>
internal static class Faults
{
    public const string OutagePrefix = "chain anvil is unreachable since ";
    public const string OutageSuffix = "; minting resumes when it answers";

    /// <summary>Settings that make a one-second outage visible and recovery quick.</summary>
    public static Dictionary<string, string?> Settings(params (string Key, string Value)[] more)
    {
        var s = new Dictionary<string, string?>
        {
            ["Pipeline:RpcOutageNoticeAfter"] = "00:00:01",
            ["Pipeline:RpcTimeout"] = "00:00:01",
            ["Pipeline:RebroadcastInterval"] = "00:00:00.3",
        };
        foreach (var (k, v) in more)
        {
            s[k] = v;
        }
        return s;
    }

    /// <summary>A fresh owner address: its balances start at zero, so they count exactly what this test minted.</summary>
    public static string NewOwner() => "0x" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "0000abcd";

    public static string RandomTokenId() => (new BigInteger(Random.Shared.NextInt64(1, long.MaxValue)) * 1000 + Random.Shared.Next(1000)).ToString(CultureInfo.InvariantCulture);

    public sealed record Posted(string Collection, string Ref, string Owner, string? TokenId, string? Amount);

    /// <summary>Posts by-quantity (V2 and v1), by-id and ERC1155 assets for two fresh owners.</summary>
    public static async Task<List<Posted>> PostMixAsync(PipelineServer server, string label)
    {
        var owners = new[] { NewOwner(), NewOwner() };
        var posted = new List<Posted>();
        foreach (var collection in new[] { "erc721", "erc721_v1", "erc721_mint_by_id", "erc1155" })
        {
            var assets = new JsonArray();
            for (var i = 0; i < 3; i++)
            {
                var p = new Posted(collection, $"{label}-{collection}-{i}-{Guid.NewGuid():N}", owners[i % 2],
                    collection is "erc721_mint_by_id" or "erc1155" ? RandomTokenId() : null, collection == "erc1155" ? "2" : null);
                assets.Add(PipelineServer.Asset(p.Ref, p.Owner, p.TokenId, p.Amount));
                posted.Add(p);
            }
            await server.PostAsync(collection, assets);
        }
        return posted;
    }

    public static async Task<JsonObject> WaitSucceededAsync(PipelineServer server, TestRpc rpc, Posted p, TimeSpan? timeout = null)
    {
        JsonObject r = null!;
        await Eventually.TrueAsync(async () => (string?)(r = await server.GetAsync(p.Collection, p.Ref))["status"] != "pending", $"{p.Ref} to leave pending", timeout ?? TimeSpan.FromSeconds(30));
        Assert.True((string?)r["status"] == "succeeded", $"{p.Collection} {p.Ref}: {r.ToJsonString()}");
        Assert.Null(r["error"]);
        return r;
    }

    /// <summary>
    /// Every request succeeded once: the chain confirms each token id, each owner holds exactly what was asked for
    /// (nothing minted twice), and each reference id has one succeeded event.
    /// </summary>
    public static async Task AssertMintedOnceAsync(PipelineServer server, TestRpc rpc, IReadOnlyList<Posted> posted, TimeSpan? timeout = null)
    {
        var tokens = new HashSet<(string, string)>();
        foreach (var p in posted)
        {
            var r = await WaitSucceededAsync(server, rpc, p, timeout);
            var token = (string)r["token_id"]!;
            Assert.True(tokens.Add((p.Collection, token)), $"token {token} of {p.Collection} given to two requests");
            if (p.TokenId is not null)
            {
                Assert.Equal(p.TokenId, token);
            }
            var id = BigInteger.Parse(token, CultureInfo.InvariantCulture);
            if (p.Collection == "erc1155")
            {
                Assert.Equal(BigInteger.Parse(p.Amount!, CultureInfo.InvariantCulture), await rpc.BalanceOf1155Async(server.Address(p.Collection), p.Owner, id));
            }
            else
            {
                Assert.Equal(p.Owner, await rpc.OwnerOfAsync(server.Address(p.Collection), id));
            }
        }
        foreach (var g in posted.Where(p => p.Collection != "erc1155").GroupBy(p => (p.Collection, p.Owner)))
        {
            Assert.Equal(g.Count(), (int)await rpc.BalanceOfAsync(server.Address(g.Key.Collection), g.Key.Owner));
        }
        await using var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        var events = (await c.QueryAsync<string>("SELECT r.reference_id FROM mint_event e JOIN mint_request r ON r.id = e.mint_request_id WHERE e.status = 'succeeded'")).ToList();
        foreach (var p in posted)
        {
            Assert.Equal(1, events.Count(e => e == p.Ref));
        }
    }

    public static async Task<List<string>> StoredRawAsync(PipelineServer server)
    {
        await using var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        return (await c.QueryAsync<byte[]>("SELECT raw FROM tx_attempt ORDER BY id")).Select(b => "0x" + Convert.ToHexStringLower(b)).ToList();
    }
}

/// <summary>RPC outages between OpenMint and a real Anvil, made by a loopback fault proxy.</summary>
public class PipelineRpcOutageTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    [Theory]
    [InlineData(RpcFault.ServiceUnavailable)]
    [InlineData(RpcFault.Hang)]
    [InlineData(RpcFault.Refuse)]
    public async Task requests_accepted_during_an_outage_stay_pending_with_the_notice_and_all_succeed_once_when_it_ends(RpcFault fault)
    {
        await using var proxy = RpcFaultProxy.Start(anvil.RpcUrl);
        await using var server = await PipelineServer.StartAsync(anvil.Deployment with { RpcUrl = proxy.Url.ToString() }, Faults.Settings());
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        proxy.SetFault(fault);
        var posted = await Faults.PostMixAsync(server, "outage");
        string? notice = null;
        await Eventually.TrueAsync(async () => (notice = (string?)(await server.GetAsync(posted[0].Collection, posted[0].Ref))["error"]?["message"]) is not null, "the outage notice");
        Assert.StartsWith(Faults.OutagePrefix, notice);
        Assert.EndsWith(Faults.OutageSuffix, notice);
        // Requests that arrive after the notice went up show it too.
        var later = await Faults.PostMixAsync(server, "outage-later");
        await Eventually.TrueAsync(async () => (string?)(await server.GetAsync(later[^1].Collection, later[^1].Ref))["error"]?["message"] == notice, "the notice on requests accepted later");
        foreach (var p in posted.Concat(later))
        {
            var r = await server.GetAsync(p.Collection, p.Ref);
            Assert.Equal("pending", (string?)r["status"]);
            Assert.Equal(notice, (string?)r["error"]?["message"]);
        }
        Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM tx"));

        proxy.SetFault(RpcFault.None);
        await Faults.AssertMintedOnceAsync(server, rpc, [.. posted, .. later]);
        Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE error_message IS NOT NULL"));
    }

    [Fact]
    public async Task an_outage_that_starts_at_broadcast_resends_the_written_ahead_bytes_and_mints_once()
    {
        await using var proxy = RpcFaultProxy.Start(anvil.RpcUrl);
        await using var server = await PipelineServer.StartAsync(anvil.Deployment with { RpcUrl = proxy.Url.ToString() }, Faults.Settings());
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var first = new Faults.Posted("erc721_v1", "acked-" + Guid.NewGuid().ToString("N")[..8], Faults.NewOwner(), null, null);
        var second = new Faults.Posted("erc721", "unacked-" + Guid.NewGuid().ToString("N")[..8], Faults.NewOwner(), null, null);
        await rpc.CallAsync("evm_setAutomine", false);
        try
        {
            // The first tx is broadcast and acknowledged (in the pool, not mined).
            await server.PostAsync(first.Collection, [PipelineServer.Asset(first.Ref, first.Owner)]);
            await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt WHERE broadcast_at IS NOT NULL") == 1, "the first broadcast");
            // The second reaches the node, but the answer is lost and the outage begins.
            proxy.SetFaultOnFirst("eth_sendRawTransaction", RpcFault.ServiceUnavailable, forwardFirst: true);
            await server.PostAsync(second.Collection, [PipelineServer.Asset(second.Ref, second.Owner)]);
            await Eventually.TrueAsync(async () => ((string?)(await server.GetAsync(second.Collection, second.Ref))["error"]?["message"])?.StartsWith(Faults.OutagePrefix, StringComparison.Ordinal) == true, "the outage notice");
            Assert.Equal(RpcFault.ServiceUnavailable, proxy.Fault);
            Assert.StartsWith(Faults.OutagePrefix, (string?)(await server.GetAsync(first.Collection, first.Ref))["error"]?["message"]);
            Assert.Equal(2, await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt"));
            Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt WHERE broadcast_at IS NULL"));
            // Meanwhile the node loses its pool: only the stored bytes can bring the mints back.
            Assert.Equal(2L, Convert.ToInt64((await rpc.CallAsync("txpool_status")).GetProperty("pending").GetString(), 16));
            await rpc.CallAsync("anvil_dropAllTransactions");
            proxy.SetFault(RpcFault.None);
            await Eventually.TrueAsync(async () => Convert.ToInt64((await rpc.CallAsync("txpool_status")).GetProperty("pending").GetString(), 16) == 2, "both txs re-sent to the pool");
        }
        finally
        {
            await rpc.CallAsync("evm_setAutomine", true);
            await rpc.CallAsync("evm_mine");
        }
        await Faults.AssertMintedOnceAsync(server, rpc, [first, second]);
        // Nothing was signed again: the node got exactly the written-ahead bytes, each more than once.
        var stored = await Faults.StoredRawAsync(server);
        Assert.Equal(2, stored.Count);
        Assert.Equal(stored.Order(), proxy.RawTransactions.Distinct().Order());
        Assert.All(stored, raw => Assert.True(proxy.RawTransactions.Count(s => s == raw) >= 2, "stored bytes were not re-sent"));
        Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE error_message IS NOT NULL"));
    }
}

/// <summary>Anvil killed and started again on the same port, with its state or with an older one.</summary>
public class PipelineNodeRestartTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private static string StatePath() => Path.Combine(Path.GetDirectoryName(TempSqlite.NewPath())!, $"anvil-state-{Guid.NewGuid():N}.json");

    [Fact]
    public async Task a_node_restart_loses_the_pool_and_the_in_flight_txs_are_sent_again_and_succeed_once()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, Faults.Settings());
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        await rpc.CallAsync("evm_setAutomine", false);
        var posted = await Faults.PostMixAsync(server, "restart");
        // All planned, signed and acknowledged by the node: they wait in its pool.
        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE batch_id IS NULL") == 0
            && await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt WHERE broadcast_at IS NULL") == 0, "every request in an acknowledged tx");
        var txs = await server.ScalarAsync("SELECT COUNT(*) FROM tx");
        Assert.Equal(txs, Convert.ToInt64((await rpc.CallAsync("txpool_status")).GetProperty("pending").GetString(), 16));
        var state = await anvil.Anvil.DumpStateAsync(StatePath(), CancellationToken.None);

        await anvil.Anvil.StopAsync(CancellationToken.None);
        await Eventually.TrueAsync(async () => ((string?)(await server.GetAsync(posted[0].Collection, posted[0].Ref))["error"]?["message"])?.StartsWith(Faults.OutagePrefix, StringComparison.Ordinal) == true, "the outage notice while the node is down");
        Assert.Equal("pending", (string?)(await server.GetAsync(posted[0].Collection, posted[0].Ref))["status"]);
        await anvil.Anvil.RestartAsync(state, CancellationToken.None); // automine again, empty pool

        await Faults.AssertMintedOnceAsync(server, rpc, posted);
        // The same signed bytes were mined: no attempt was added, every mined hash is a stored first attempt.
        Assert.Equal(txs, await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt"));
        Assert.Equal(txs, await server.ScalarAsync("SELECT COUNT(*) FROM tx t JOIN tx_attempt a ON a.tx_id = t.id AND a.hash = t.mined_hash WHERE t.state = 'done'"));
        Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE error_message IS NOT NULL"));
    }

    [Fact]
    public async Task a_restart_from_an_older_state_makes_mined_txs_vanish_and_the_same_bytes_are_mined_again_once()
    {
        // Through a proxy held shut across the restart, so the test sees the rolled-back chain before the sender does.
        await using var proxy = RpcFaultProxy.Start(anvil.RpcUrl);
        await using var server = await PipelineServer.StartAsync(anvil.Deployment with { RpcUrl = proxy.Url.ToString() }, Faults.Settings(), confirmations: 12);
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var older = await anvil.Anvil.DumpStateAsync(StatePath(), CancellationToken.None);
        var startNonce = Convert.ToInt64((await rpc.CallAsync("eth_getTransactionCount", anvil.Deployment.MinterAddress, "latest")).GetString(), 16);
        var posted = await Faults.PostMixAsync(server, "vanish");
        // Mined (automine) but not yet 12 blocks deep: still pending.
        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE batch_id IS NULL") == 0
            && await server.ScalarAsync("SELECT COUNT(*) FROM tx WHERE state <> 'mined'") == 0, "every tx mined");
        var txs = await server.ScalarAsync("SELECT COUNT(*) FROM tx");
        var minedBefore = await MinedHashesAsync(server);
        Assert.Equal(startNonce + txs, Convert.ToInt64((await rpc.CallAsync("eth_getTransactionCount", anvil.Deployment.MinterAddress, "latest")).GetString(), 16));
        foreach (var p in posted)
        {
            Assert.Equal("pending", (string?)(await server.GetAsync(p.Collection, p.Ref))["status"]);
        }

        proxy.SetFault(RpcFault.ServiceUnavailable);
        await anvil.Anvil.RestartAsync(older, CancellationToken.None);
        Assert.Equal(startNonce, Convert.ToInt64((await rpc.CallAsync("eth_getTransactionCount", anvil.Deployment.MinterAddress, "latest")).GetString(), 16));
        foreach (var hash in minedBefore)
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, (await rpc.CallAsync("eth_getTransactionReceipt", hash)).ValueKind);
        }
        proxy.SetFault(RpcFault.None);
        // The sender sees the nonce go back, returns the txs to pending and re-sends them; blocks on top make them deep.
        await Eventually.TrueAsync(async () =>
        {
            await rpc.CallAsync("evm_mine");
            return await server.ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE status = 'pending'") == 0;
        }, "all requests settled after the restart", TimeSpan.FromSeconds(30));
        await Faults.AssertMintedOnceAsync(server, rpc, posted);
        Assert.Equal(txs, await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt"));
        Assert.Equal(minedBefore.Order(), (await MinedHashesAsync(server)).Order());
        Assert.Equal(startNonce + txs, Convert.ToInt64((await rpc.CallAsync("eth_getTransactionCount", anvil.Deployment.MinterAddress, "latest")).GetString(), 16));
    }

    [Fact]
    public async Task a_restart_that_loses_reconciled_blocks_gets_the_same_bytes_mined_again_and_minting_goes_on()
    {
        // Depth 0 (Anvil's default here): the requests succeed at once, then their blocks vanish.
        await using var proxy = RpcFaultProxy.Start(anvil.RpcUrl);
        await using var server = await PipelineServer.StartAsync(anvil.Deployment with { RpcUrl = proxy.Url.ToString() }, Faults.Settings());
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var older = await anvil.Anvil.DumpStateAsync(StatePath(), CancellationToken.None);
        var startNonce = await NonceAsync(rpc);
        var posted = await Faults.PostMixAsync(server, "lost");
        await Faults.AssertMintedOnceAsync(server, rpc, posted);
        var txs = await server.ScalarAsync("SELECT COUNT(*) FROM tx");
        var minedBefore = await MinedHashesAsync(server);

        proxy.SetFault(RpcFault.ServiceUnavailable);
        await anvil.Anvil.RestartAsync(older, CancellationToken.None);
        Assert.Equal(startNonce, await NonceAsync(rpc));
        Assert.Equal(BigInteger.Zero, await rpc.BalanceOfAsync(server.Address("erc721"), posted[0].Owner));
        proxy.SetFault(RpcFault.None);

        // The chain is behind the nonces the store used: unless the vanished txs come back, every later tx waits forever.
        var later = await Faults.PostMixAsync(server, "after-loss");
        await Eventually.TrueAsync(async () => await NonceAsync(rpc) >= startNonce + txs, "the lost txs mined again");
        await Faults.AssertMintedOnceAsync(server, rpc, [.. posted, .. later]);
        Assert.Equal(minedBefore, (await MinedHashesAsync(server)).Take(minedBefore.Count));
        foreach (var hash in minedBefore)
        {
            Assert.Equal("0x1", (await rpc.CallAsync("eth_getTransactionReceipt", hash)).GetProperty("status").GetString());
        }
        Assert.Equal(startNonce + await server.ScalarAsync("SELECT COUNT(*) FROM tx"), await NonceAsync(rpc));
        Assert.Equal(await server.ScalarAsync("SELECT COUNT(*) FROM tx"), await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt")); // nothing signed again
    }

    private async Task<long> NonceAsync(TestRpc rpc) =>
        Convert.ToInt64((await rpc.CallAsync("eth_getTransactionCount", anvil.Deployment.MinterAddress, "latest")).GetString(), 16);

    private static async Task<List<string>> MinedHashesAsync(PipelineServer server)
    {
        await using var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        return (await c.QueryAsync<string>("SELECT mined_hash FROM tx ORDER BY nonce")).ToList();
    }
}

/// <summary>The minter runs out of gas money on a real Anvil, and is funded again.</summary>
public class PipelineInsufficientFundsTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    [Fact]
    public async Task an_unfunded_minter_pauses_minting_with_the_reason_on_every_pending_request_and_funding_resumes_it()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, Faults.Settings());
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var minter = anvil.Deployment.MinterAddress;
        var funds = (await rpc.CallAsync("eth_getBalance", minter, "latest")).GetString()!;
        await rpc.CallAsync("anvil_setBalance", minter, "0x0");
        List<Faults.Posted> posted;
        List<Faults.Posted> later;
        string expected;
        try
        {
            posted = await Faults.PostMixAsync(server, "nofunds");
            await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM signer_lease WHERE paused_reason IS NOT NULL") == 1, "the signer to pause");
            await using (var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None))
            {
                var signer = await c.ExecuteScalarAsync<string>("SELECT signer_address FROM signer_lease");
                Assert.Equal(minter, signer, ignoreCase: true);
                expected = $"minting on chain anvil is paused: the minter {signer} has insufficient funds for gas (balance 0 wei); fund it and minting resumes";
            }
            later = await Faults.PostMixAsync(server, "nofunds-later");
            foreach (var p in posted.Concat(later))
            {
                await Eventually.TrueAsync(async () => (string?)(await server.GetAsync(p.Collection, p.Ref))["error"]?["message"] == expected, $"the paused message on {p.Ref}");
                Assert.Equal("pending", (string?)(await server.GetAsync(p.Collection, p.Ref))["status"]);
            }
            Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE status <> 'pending'"));
        }
        finally
        {
            await rpc.CallAsync("anvil_setBalance", minter, funds);
        }
        await Faults.AssertMintedOnceAsync(server, rpc, [.. posted, .. later]);
        Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE error_message IS NOT NULL"));
        Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM signer_lease WHERE paused_reason IS NOT NULL"));
    }
}

/// <summary>A mined mint tx reorganised away before it is deep enough (anvil_reorg).</summary>
public class PipelineReorgTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private static readonly string TransferTopic = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

    [Fact]
    public async Task a_mint_reorganised_away_before_its_depth_is_mined_again_and_succeeds_once_with_the_id_of_the_final_chain()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, Faults.Settings(), confirmations: 2);
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var contract = server.Address("erc721");
        var admin = anvil.Deployment.OwnerAddress;
        // The admin may mint too: the replacement chain gets an admin mint that takes the token ids our tx had.
        await rpc.CallAsync("eth_sendTransaction", new { from = admin, to = contract, data = "0x3dd1eb61" + Word(TestRpc.Address(admin)) });
        var p = new Faults.Posted("erc721", "reorg-" + Guid.NewGuid().ToString("N")[..8], Faults.NewOwner(), null, null);
        var other = Faults.NewOwner();
        await server.PostAsync(p.Collection, [PipelineServer.Asset(p.Ref, p.Owner)]);
        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM tx WHERE state = 'mined'") == 1, "the mint tx mined");
        Assert.Equal("pending", (string?)(await server.GetAsync(p.Collection, p.Ref))["status"]);
        string hash;
        await using (var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None))
        {
            hash = (await c.ExecuteScalarAsync<string>("SELECT mined_hash FROM tx"))!;
        }
        var receipt = await rpc.CallAsync("eth_getTransactionReceipt", hash);
        var minedIn = Convert.ToInt64(receipt.GetProperty("blockNumber").GetString(), 16);
        var firstId = receipt.GetProperty("logs").EnumerateArray().Where(l => l.GetProperty("topics")[0].GetString() == TransferTopic)
            .Select(l => BigInteger.Parse("0" + l.GetProperty("topics")[3].GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)).Single();
        var head = Convert.ToInt64((await rpc.CallAsync("eth_blockNumber")).GetString(), 16);

        // mintBatchByQuantity([{to: other, quantity: 1}]) by the admin, in the block that replaces ours.
        var adminMint = "0xe1927859" + Word(32) + Word(1) + Word(TestRpc.Address(other)) + Word(1);
        await rpc.CallAsync("anvil_reorg", head - minedIn + 1, new object[] { new object[] { new { from = admin, to = contract, data = adminMint, gas = "0x100000" }, 0 } });
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await rpc.CallAsync("eth_getTransactionReceipt", hash)).ValueKind);
        Assert.Equal(other, await rpc.OwnerOfAsync(contract, firstId));

        await Eventually.TrueAsync(async () =>
        {
            await rpc.CallAsync("evm_mine");
            return (string?)(await server.GetAsync(p.Collection, p.Ref))["status"] != "pending";
        }, "the request to settle after the reorg", TimeSpan.FromSeconds(30));
        var r = await Faults.WaitSucceededAsync(server, rpc, p);
        var tokenId = BigInteger.Parse((string)r["token_id"]!, CultureInfo.InvariantCulture);
        Assert.NotEqual(firstId, tokenId);
        Assert.Equal(p.Owner, await rpc.OwnerOfAsync(contract, tokenId));
        Assert.Equal(BigInteger.One, await rpc.BalanceOfAsync(contract, p.Owner));
        Assert.Equal(hash, (string?)r["transaction_hash"]); // the same signed bytes, mined again
        var final = await rpc.CallAsync("eth_getTransactionReceipt", hash);
        Assert.Equal(tokenId, BigInteger.Parse("0" + final.GetProperty("logs").EnumerateArray().Single(l => l.GetProperty("topics")[0].GetString() == TransferTopic)
            .GetProperty("topics")[3].GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));
        Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM tx_attempt"));
    }

    private static string Word(BigInteger v) => v.ToString("x64", CultureInfo.InvariantCulture)[^64..];
}
