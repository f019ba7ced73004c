using System.Globalization;
using System.Text.Json.Nodes;
using OpenMint.Api.Tests.Minting;
using OpenMint.DevChain;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>
/// Several minter wallets on one chain, on a real Anvil: the CLI adds and removes them, checks and grants MINTER_ROLE for
/// each, <c>signer status</c> lists each; the pipeline mints through all of them, and a wallet without funds does not
/// hold up the others. Each test uses its own extra dev account (grants and balances are chain state shared by the class).
/// </summary>
public sealed class MultiWalletTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("openmint-wallets-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> KeyFileAsync(string name, string key)
    {
        var path = Path.Combine(_dir, name);
        await File.WriteAllTextAsync(path, key + "\n");
        return path;
    }

    private static async Task<JsonNode> OkAsync(string database, params string[] args)
    {
        var (code, output, error) = await CliTests.RunAsync([.. args, "--database", database, "--json"]);
        Assert.True(code == 0, $"openmint {string.Join(' ', args)} exited {code}: {output} {error}");
        return JsonNode.Parse(output)!;
    }

    private static async Task<string> ErrorAsync(string database, params string[] args)
    {
        var (code, output, _) = await CliTests.RunAsync([.. args, "--database", database, "--json"]);
        Assert.Equal(1, code);
        return (string)JsonNode.Parse(output)!["error"]!;
    }

    [Fact]
    public async Task chain_add_takes_two_key_files_update_adds_and_removes_wallets_and_collection_add_warns_about_the_one_without_the_role()
    {
        var db = TempSqlite.NewDatabaseValue("wallets-cli");
        var first = await KeyFileAsync("first.key", anvil.Deployment.MinterPrivateKey);
        var (secondAddress, secondKey) = DevAccounts.Others[2];
        var second = await KeyFileAsync("second.key", secondKey);
        var chainId = anvil.Deployment.ChainId.ToString(CultureInfo.InvariantCulture);

        var chain = await OkAsync(db, "chain", "add", "--name", "anvil", "--chain-id", chainId, "--rpc-url", anvil.RpcUrl.ToString(),
            "--minter-key-file", first, "--minter-key-file", second);
        Assert.Equal(["file:" + first, "file:" + second], chain["minter_key_refs"]!.AsArray().Select(n => (string)n!).ToArray());
        Assert.Equal("file:" + first, (string?)chain["minter_key_ref"]);

        // The same account twice would be two writers of one nonce sequence.
        var again = await KeyFileAsync("again.key", secondKey);
        Assert.Contains("same account", await ErrorAsync(db, "chain", "update", "--name", "anvil", "--minter-key-file", again));
        Assert.Contains("no minter wallet of chain anvil", await ErrorAsync(db, "chain", "update", "--name", "anvil", "--remove-minter", "0x" + new string('9', 40)));
        var withEnv = await OkAsync(db, "chain", "update", "--name", "anvil", "--minter-key-env", "OPENMINT_TEST_UNSET_MINTER");
        Assert.Equal(3, withEnv["minter_key_refs"]!.AsArray().Count);
        var removed = await OkAsync(db, "chain", "update", "--name", "anvil", "--remove-minter", "env:OPENMINT_TEST_UNSET_MINTER");
        Assert.Equal(2, removed["minter_key_refs"]!.AsArray().Count);
        Assert.Equal(2, (await OkAsync(db, "chain", "list"))[0]!["minter_key_refs"]!.AsArray().Count);

        var project = (string)(await OkAsync(db, "project", "create", "--name", "wallets", "--owner-address", anvil.Deployment.OwnerAddress))["id"]!;
        var address = anvil.Deployment["erc721"].Address;
        var (code, text, _) = await CliTests.RunAsync("collection", "add", "--chain", "anvil", "--address", address, "--project", project, "--database", db);
        Assert.True(code == 0, text);
        Assert.Contains($"minter {anvil.Deployment.MinterAddress.ToLowerInvariant()} holds minter_role", text.ToLowerInvariant());
        Assert.Contains($"WARNING: the minter {secondAddress} lacks MINTER_ROLE", text, StringComparison.OrdinalIgnoreCase);
        var checkedAgain = await OkAsync(db, "collection", "update", "--chain", "anvil", "--address", address);
        Assert.False((bool)checkedAgain["minter_has_role"]!);
        Assert.Equal([true, false], checkedAgain["minters"]!.AsArray().Select(m => (bool)m!["has_role"]!).ToArray());

        var admin = await KeyFileAsync("admin.key", anvil.Deployment.OwnerPrivateKey);
        var granted = await OkAsync(db, "collection", "grant-minter", "--chain", "anvil", "--address", address, "--admin-key-file", admin);
        Assert.True((bool)granted["minter_has_role"]!);
        Assert.Null((string?)granted["minters"]![0]!["tx_hash"]);
        Assert.StartsWith("0x", (string?)granted["minters"]![1]!["tx_hash"]);
        Assert.True((bool)(await OkAsync(db, "collection", "update", "--chain", "anvil", "--address", address))["minter_has_role"]!);

        var status = (await OkAsync(db, "signer", "status", "--chain", "anvil")).AsArray();
        Assert.Equal([anvil.Deployment.MinterAddress.ToLowerInvariant(), secondAddress], status.Select(s => ((string)s!["signer"]!).ToLowerInvariant()).ToArray());
        Assert.All(status, s => Assert.NotNull((string?)s!["balance_wei"]));

        var dropped = await OkAsync(db, "chain", "update", "--name", "anvil", "--remove-minter", secondAddress);
        Assert.Equal(["file:" + first], dropped["minter_key_refs"]!.AsArray().Select(n => (string)n!).ToArray());
    }

    /// <summary>The pipeline's tenancy with a second wallet (a dev account) that holds MINTER_ROLE on erc721.</summary>
    private async Task<(string Database, PipelineTenancy Tenancy, string Second)> TwoWalletsAsync(int other)
    {
        var db = TempSqlite.NewDatabaseValue("wallets-e2e");
        PipelineTenancy tenancy;
        await using (var store = await Storage.OpenMintStorage.OpenAsync(db, CancellationToken.None))
        {
            tenancy = await PipelineTenancy.CreateAsync(store, anvil.Deployment);
        }
        var (address, key) = DevAccounts.Others[other];
        await OkAsync(db, "chain", "update", "--name", PipelineTenancy.ChainName, "--minter-key-file", await KeyFileAsync($"wallet-{other}.key", key));
        var admin = await KeyFileAsync("admin.key", anvil.Deployment.OwnerPrivateKey);
        Assert.True((bool)(await OkAsync(db, "collection", "grant-minter", "--chain", "anvil", "--address", anvil.Deployment["erc721"].Address, "--admin-key-file", admin))["minter_has_role"]!);
        return (db, tenancy, address);
    }

    private static async Task PostSinglesAsync(PipelineServer server, string run, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await server.PostAsync("erc721", [PipelineServer.Asset($"{run}-{i}", "0x1000000000000000000000000000000000000001")]);
            await Task.Delay(60);
        }
    }

    private static async Task AllSucceededAsync(PipelineServer server, string run, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var request = await server.WaitAsync("erc721", $"{run}-{i}", TimeSpan.FromSeconds(180));
            Assert.True((string?)request["status"] == "succeeded", request.ToJsonString());
        }
    }

    private static Task<long> DoneTxsAsync(PipelineServer server, string signer) =>
        server.ScalarAsync("SELECT COUNT(*) FROM tx WHERE chain_name = 'anvil' AND signer_address = @signer AND state = 'done'", new { signer = signer.ToLowerInvariant() });

    [Fact]
    public async Task two_wallets_mint_concurrently_and_both_send_txs()
    {
        var (db, tenancy, second) = await TwoWalletsAsync(0);
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, database: db, shared: tenancy);
        var run = Guid.NewGuid().ToString("N")[..8];
        await PostSinglesAsync(server, run, 30);
        await AllSucceededAsync(server, run, 30);
        Assert.True(await DoneTxsAsync(server, anvil.Deployment.MinterAddress) > 0, "the first wallet sent no tx");
        Assert.True(await DoneTxsAsync(server, second) > 0, "the second wallet sent no tx");
        Assert.Equal(2, await server.ScalarAsync("SELECT COUNT(*) FROM signer_lease WHERE chain_name = 'anvil' AND owner_instance IS NOT NULL"));
        // Each wallet's nonces: every one used once, none skipped.
        foreach (var signer in new[] { anvil.Deployment.MinterAddress.ToLowerInvariant(), second })
        {
            var txs = await server.ScalarAsync("SELECT COUNT(*) FROM tx WHERE signer_address = @signer AND state = 'done'", new { signer });
            var max = await server.ScalarAsync("SELECT MAX(nonce) - MIN(nonce) + 1 FROM tx WHERE signer_address = @signer", new { signer });
            Assert.Equal(txs, max);
        }
    }

    [Fact]
    public async Task a_wallet_without_funds_does_not_hold_up_mints_through_the_other_and_takes_batches_again_once_funded()
    {
        var (db, tenancy, second) = await TwoWalletsAsync(1);
        using var rpc = new TestRpc(anvil.RpcUrl.ToString());
        await rpc.CallAsync("anvil_setBalance", second, "0x0");
        try
        {
            await using var server = await PipelineServer.StartAsync(anvil.Deployment, database: db, shared: tenancy);
            var run = Guid.NewGuid().ToString("N")[..8];
            await PostSinglesAsync(server, run, 20);
            await AllSucceededAsync(server, run, 20);
            Assert.Equal(0, await DoneTxsAsync(server, second));
            Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM tx WHERE signer_address = @second AND state IN ('pending', 'mined')", new { second }));
            await Eventually.TrueAsync(async () => await server.ScalarAsync(
                "SELECT COUNT(*) FROM signer_lease WHERE signer_address = @second AND paused_reason LIKE '%insufficient funds%'", new { second }) == 1,
                "the unfunded wallet to be paused", TimeSpan.FromSeconds(60));
            // Its pause is not shown on requests the other wallet mints.
            Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE error_message LIKE '%insufficient funds%'"));

            await rpc.CallAsync("anvil_setBalance", second, "0x56BC75E2D63100000");
            var later = run + "-funded";
            for (var round = 0; round < 6 && await DoneTxsAsync(server, second) == 0; round++)
            {
                await PostSinglesAsync(server, $"{later}{round}", 5);
                await AllSucceededAsync(server, $"{later}{round}", 5);
            }
            Assert.True(await DoneTxsAsync(server, second) > 0, "the funded wallet took no batch again");
            Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM signer_lease WHERE signer_address = @second AND paused_reason IS NOT NULL", new { second }));
        }
        finally
        {
            await rpc.CallAsync("anvil_setBalance", second, "0x56BC75E2D63100000");
        }
    }
}
