using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>
/// Reorgs deeper than <c>confirmations</c> after a by-quantity batch was reconciled (anvil_reorg on a real Anvil): the
/// reorg watcher finds the tx again (re-sent, or in another block) and the API ends with the ids the final chain shows.
/// </summary>
public class ReorgTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private const string TransferTopic = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

    [Fact]
    public async Task a_reconciled_batch_dropped_by_a_deep_reorg_while_another_mint_takes_its_ids_ends_with_the_ids_the_final_chain_shows()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, Faults.Settings(), confirmations: 1);
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var (posted, hash, ids, minedIn) = await ReconciledBatchAsync(server, rpc, "dropped");
        var other = Faults.NewOwner();
        var head = await HeadAsync(rpc);

        // The replacement chain: the admin mints 3 tokens first, our tx is gone (Anvil does not put it back in its pool).
        await rpc.CallAsync("anvil_reorg", head - minedIn + 1, new object[] { new object[] { AdminMint(server, other, 3), 0 } });
        Assert.True(head - minedIn + 1 > 1, "the reorg must be deeper than confirmations");
        // Our tx left its block; the reorg watcher may already have re-sent its bytes (automine mines them at once), so it
        // is either gone or in a block after the replacement chain's head, never in the block it was reconciled in.
        var after = await rpc.CallAsync("eth_getTransactionReceipt", hash);
        Assert.True(after.ValueKind == JsonValueKind.Null || Convert.ToInt64(after.GetProperty("blockNumber").GetString(), 16) > head,
            $"the tx must have left block {minedIn}: {after}");
        Assert.Equal(other, await rpc.OwnerOfAsync(server.Address("erc721"), ids[0]));

        await AssertFinalChainAsync(server, rpc, posted, hash, ids);
    }

    [Fact]
    public async Task a_reconciled_batch_that_a_deep_reorg_moves_to_a_later_block_after_another_mint_ends_with_the_ids_of_its_new_receipt()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, Faults.Settings(), confirmations: 1);
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var (posted, hash, ids, minedIn) = await ReconciledBatchAsync(server, rpc, "moved");
        var head = await HeadAsync(rpc);
        byte[] raw;
        await using (var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None))
        {
            raw = (await c.ExecuteScalarAsync<byte[]>("SELECT raw FROM tx_attempt WHERE hash = @hash", new { hash }))!;
        }

        // The replacement chain: an admin mint in its first block, our same signed bytes in its second.
        var depth = head - minedIn + 1;
        await rpc.CallAsync("anvil_reorg", depth, new object[]
        {
            new object[] { AdminMint(server, Faults.NewOwner(), 2), 0 },
            new object[] { "0x" + Convert.ToHexStringLower(raw), 1 },
        });
        var moved = await rpc.CallAsync("eth_getTransactionReceipt", hash);
        Assert.Equal(minedIn + 1, Convert.ToInt64(moved.GetProperty("blockNumber").GetString(), 16));

        await AssertFinalChainAsync(server, rpc, posted, hash, ids);
        await using var connection = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        Assert.Equal(moved.GetProperty("blockHash").GetString(), await connection.ExecuteScalarAsync<string>("SELECT mined_block_hash FROM tx"));
    }

    /// <summary>Three by-quantity requests (two owners) minted in one tx and reconciled one block deep.</summary>
    private static async Task<(List<Faults.Posted> Posted, string Hash, List<BigInteger> Ids, long MinedIn)> ReconciledBatchAsync(PipelineServer server, TestRpc rpc, string label)
    {
        var contract = server.Address("erc721");
        var admin = server.Tenancy.Project.OwnerAddress;
        // The admin may mint too (grantMinterRole): its mint in the replacement chain takes ids our tx had.
        await rpc.CallAsync("eth_sendTransaction", new { from = admin, to = contract, data = "0x3dd1eb61" + Word(TestRpc.Address(admin)) });
        var owners = new[] { Faults.NewOwner(), Faults.NewOwner() };
        var posted = Enumerable.Range(0, 3).Select(i => new Faults.Posted("erc721", $"{label}-{i}-{Guid.NewGuid():N}", owners[i % 2], null, null)).ToList();
        await server.PostAsync("erc721", new JsonArray(posted.Select(p => (JsonNode)PipelineServer.Asset(p.Ref, p.Owner)).ToArray()));
        await Eventually.TrueAsync(async () =>
        {
            await rpc.CallAsync("evm_mine"); // automine mined the tx; one more block makes it one deep
            return (string?)(await server.GetAsync("erc721", posted[^1].Ref))["status"] != "pending";
        }, "the batch to be reconciled", TimeSpan.FromSeconds(60));
        var rows = new List<JsonObject>();
        foreach (var p in posted)
        {
            rows.Add(await Faults.WaitSucceededAsync(server, rpc, p));
        }
        var hash = (string)rows[0]["transaction_hash"]!;
        Assert.All(rows, r => Assert.Equal(hash, (string?)r["transaction_hash"]));
        var receipt = await rpc.CallAsync("eth_getTransactionReceipt", hash);
        Assert.Equal(rows.Select(r => BigInteger.Parse((string)r["token_id"]!, CultureInfo.InvariantCulture)).Order(), MintedIds(receipt).Order());
        return (posted, hash, rows.Select(r => BigInteger.Parse((string)r["token_id"]!, CultureInfo.InvariantCulture)).ToList(),
            Convert.ToInt64(receipt.GetProperty("blockNumber").GetString(), 16));
    }

    /// <summary>
    /// Mines blocks until the API shows other ids than before; then each request holds the id the chain shows for its
    /// owner, the ids are those of the tx's final receipt, nothing was minted twice, and each request's last event says so.
    /// </summary>
    private static async Task AssertFinalChainAsync(PipelineServer server, TestRpc rpc, IReadOnlyList<Faults.Posted> posted, string hash, IReadOnlyList<BigInteger> before)
    {
        await Eventually.TrueAsync(async () =>
        {
            await rpc.CallAsync("evm_mine");
            return BigInteger.Parse((string)(await server.GetAsync("erc721", posted[0].Ref))["token_id"]!, CultureInfo.InvariantCulture) != before[0];
        }, "the token ids to be corrected after the reorg", TimeSpan.FromSeconds(60));
        var contract = server.Address("erc721");
        var final = new List<BigInteger>();
        await using var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        foreach (var p in posted)
        {
            var r = await Faults.WaitSucceededAsync(server, rpc, p);
            Assert.Equal(hash, (string?)r["transaction_hash"]); // the same signed bytes, mined again
            var id = BigInteger.Parse((string)r["token_id"]!, CultureInfo.InvariantCulture);
            Assert.NotEqual(before[final.Count], id);
            Assert.Equal(p.Owner, await rpc.OwnerOfAsync(contract, id));
            final.Add(id);
            var events = (await c.QueryAsync<string>(
                "SELECT e.payload FROM mint_event e JOIN mint_request r ON r.id = e.mint_request_id WHERE r.reference_id = @Ref AND e.status = 'succeeded' ORDER BY e.seq",
                new { p.Ref })).Select(e => JsonNode.Parse(e)!["data"]!).ToList();
            Assert.Equal(2, events.Count); // reconciled, then corrected
            Assert.Equal(before[final.Count - 1].ToString(CultureInfo.InvariantCulture), (string?)events[0]["token_id"]);
            Assert.Equal(id.ToString(CultureInfo.InvariantCulture), (string?)events[1]["token_id"]);
            Assert.Equal("succeeded", (string?)events[1]["status"]);
            var asset = JsonNode.Parse(await server.Http.GetStringAsync($"/v1/chains/{PipelineTenancy.ChainName}/collections/{contract}/nfts/{id}"))!["result"]!;
            Assert.Equal(p.Owner, (string?)asset["owner_address"]);
        }
        Assert.Equal(final.Order(), MintedIds(await rpc.CallAsync("eth_getTransactionReceipt", hash)).Order());
        foreach (var owner in posted.Select(p => p.Owner).Distinct())
        {
            Assert.Equal(posted.Count(p => p.Owner == owner), (int)await rpc.BalanceOfAsync(contract, owner)); // minted once
        }
        Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM mint_event WHERE status = 'failed'"));
    }

    private static async Task<long> HeadAsync(TestRpc rpc) => Convert.ToInt64((await rpc.CallAsync("eth_blockNumber")).GetString(), 16);

    private static IEnumerable<BigInteger> MintedIds(JsonElement receipt) =>
        receipt.GetProperty("logs").EnumerateArray().Where(l => l.GetProperty("topics")[0].GetString() == TransferTopic)
            .Select(l => BigInteger.Parse("0" + l.GetProperty("topics")[3].GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToList();

    /// <summary>mintBatchByQuantity([{to, quantity}]) on the by-quantity collection, sent by its admin.</summary>
    private static object AdminMint(PipelineServer server, string to, int quantity) => new
    {
        from = server.Tenancy.Project.OwnerAddress,
        to = server.Address("erc721"),
        data = "0xe1927859" + Word(32) + Word(1) + Word(TestRpc.Address(to)) + Word(quantity),
        gas = "0x100000",
    };

    private static string Word(BigInteger v) => v.ToString("x64", CultureInfo.InvariantCulture)[^64..];
}
