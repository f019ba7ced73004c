using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api.Tests.Minting;
using OpenMint.Api.Tests.Operator;
using OpenMint.Chain;
using OpenMint.Core.Pipeline;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>
/// Treasury top-ups on a real Anvil (docs/transactions.md, "Treasury top-ups"): a minter wallet drained below the chain's
/// low balance (anvil_setBalance) gets exactly one transfer from the treasury up to <c>--top-up-to</c>; several rounds while
/// that transfer waits in the pool (automine off) sign no second one; a crash between writing the signed transfer ahead and
/// sending it sends the same bytes after the restart; one pending past BumpAfter is replaced at its nonce; one whose nonce the
/// key's use elsewhere took is abandoned and the dip gets a new one. Each test has a treasury key of its own (fresh, funded by
/// anvil_setBalance), so the treasury's nonces are its own; the minter wallet is the deployment's.
/// </summary>
public sealed class TreasuryTopUpTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>, IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly BigInteger Ether = BigInteger.Pow(10, 18);
    private static readonly BigInteger Low = 5 * Ether;
    private static readonly BigInteger TopUpTo = 8 * Ether;

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Pipeline:LowBalanceCheckInterval"] = "00:00:00.2",
        ["Telemetry:SampleInterval"] = "00:00:00.2",
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("openmint-treasury-").FullName;
    private readonly TestRpc _rpc = new(anvil.RpcUrl.ToString());

    public void Dispose()
    {
        _rpc.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Minter => anvil.Deployment.MinterAddress.ToLowerInvariant();

    /// <summary>A fresh treasury key in a file, its account funded with 100 ETH.</summary>
    private async Task<(string Address, string KeyFile, string Key)> TreasuryAsync()
    {
        var key = "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var address = EthKey.FromHex(key).Address;
        var file = Path.Combine(_dir, $"treasury-{address[2..10]}.key");
        await File.WriteAllTextAsync(file, key + "\n");
        await SetBalanceAsync(address, 100 * Ether);
        return (address, file, key);
    }

    private Task SetBalanceAsync(string address, BigInteger wei) => _rpc.CallAsync("anvil_setBalance", address, "0x" + wei.ToString("x", CultureInfo.InvariantCulture).TrimStart('0'));

    private async Task<BigInteger> BalanceAsync(string address) => Quantity(await _rpc.CallAsync("eth_getBalance", address, "latest"));

    private async Task<long> NonceAsync(string address, string block = "latest") => (long)Quantity(await _rpc.CallAsync("eth_getTransactionCount", address, block));

    private static BigInteger Quantity(JsonElement hex) => BigInteger.Parse("0" + hex.GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>A fresh SQLite store with the pipeline's tenancy; the chain gets the treasury, the low balance and the top-up target.</summary>
    private static async Task<(string Db, PipelineTenancy Tenancy)> StoreAsync(AnvilFixture anvil, string treasuryKeyFile, string name)
    {
        var db = TempSqlite.NewDatabaseValue(name);
        await using var store = await OpenMintStorage.OpenAsync(db, Ct);
        var tenancy = await PipelineTenancy.CreateAsync(store, anvil.Deployment);
        var chain = (await store.Tenancy.GetChainAsync(PipelineTenancy.ChainName, Ct))!;
        await store.Tenancy.UpsertChainAsync(chain with
        {
            LowBalanceWei = Low.ToString(CultureInfo.InvariantCulture), TopUpToWei = TopUpTo.ToString(CultureInfo.InvariantCulture), TreasuryKeyRef = "file:" + treasuryKeyFile,
        }, Ct);
        return (db, tenancy);
    }

    private static async Task<long> ScalarAsync(string db, string sql)
    {
        await using var store = await OpenMintStorage.OpenAsync(db, Ct);
        await using var c = await store.Database.OpenConnectionAsync(Ct);
        return await c.ExecuteScalarAsync<long>(sql);
    }

    private static async Task<JsonNode> TreasuryStatusAsync(string db) =>
        (await MultiWalletTests.OkAsync(db, "signer", "status", "--chain", "anvil")).AsArray().Single(s => (string?)s!["role"] == "treasury")!;

    [Fact]
    public async Task a_minter_below_the_low_balance_gets_exactly_one_transfer_from_the_treasury_up_to_top_up_to()
    {
        var (treasury, keyFile, _) = await TreasuryAsync();
        var (db, tenancy) = await StoreAsync(anvil, keyFile, "treasury-once");
        await SetBalanceAsync(Minter, 1 * Ether);
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, Settings, database: db, shared: tenancy);

        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM top_up WHERE state = 'done'") == 1, "the top-up to be mined", TimeSpan.FromSeconds(60));
        Assert.Equal(TopUpTo, await BalanceAsync(Minter));
        // Many more rounds at the check interval: the wallet is at the target now, nothing more is sent.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM top_up"));
        Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM top_up_attempt"));
        Assert.Equal(1, await NonceAsync(treasury));
        Assert.Equal(TopUpTo, await BalanceAsync(Minter));
        Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM top_up WHERE value_wei = @value AND balance_wei = @seen",
            new { value = (7 * Ether).ToString(CultureInfo.InvariantCulture), seen = Ether.ToString(CultureInfo.InvariantCulture) }));

        var samples = await Eventually.ValueAsync(() => HealthAndMetricsTests.ScrapeAsync(server),
            m => m.Any(s => s.Name == "openmint_treasury_top_ups_total" && s.Labels.GetValueOrDefault("chain") == "anvil" && s.Value >= 1), "openmint_treasury_top_ups_total", TimeSpan.FromSeconds(30));
        Assert.NotEmpty(samples);
        var status = await TreasuryStatusAsync(db);
        Assert.Equal(treasury, (string?)status["signer"]);
        Assert.True(BigInteger.Parse((string)status["balance_wei"]!, CultureInfo.InvariantCulture) < 93 * Ether);
        Assert.Null(status["top_up_in_flight"]);

        // Drained again later: a new dip, one new top-up.
        await SetBalanceAsync(Minter, 2 * Ether);
        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM top_up WHERE state = 'done'") == 2, "the second dip's top-up", TimeSpan.FromSeconds(60));
        Assert.Equal(TopUpTo, await BalanceAsync(Minter));
        Assert.Equal(2, await NonceAsync(treasury));
    }

    [Fact]
    public async Task rounds_while_the_top_up_waits_in_the_pool_sign_no_second_one()
    {
        var (treasury, keyFile, _) = await TreasuryAsync();
        var (db, tenancy) = await StoreAsync(anvil, keyFile, "treasury-pending");
        await SetBalanceAsync(Minter, 10 * Ether);
        // No fee bump while this test looks (a replacement is the next test's subject).
        var settings = new Dictionary<string, string?>(Settings) { ["Pipeline:BumpAfter"] = "00:10:00" };
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, settings, database: db, shared: tenancy);
        await _rpc.CallAsync("evm_setAutomine", false);
        try
        {
            await SetBalanceAsync(Minter, 1 * Ether);
            await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM top_up_attempt WHERE broadcast_at IS NOT NULL") == 1,
                "the top-up to be sent", TimeSpan.FromSeconds(60));
            var inFlight = (await TreasuryStatusAsync(db))["top_up_in_flight"]!;
            Assert.Equal(Minter, (string?)inFlight["wallet"]);
            Assert.True((bool)inFlight["sent"]!);
            var (_, text, _) = await CliTests.RunAsync("signer", "status", "--chain", "anvil", "--database", db);
            Assert.Contains($"top-up in flight: {7 * Ether} wei to {Minter}", text);
            // The dashboard's overview reads the same.
            var shown = Assert.Single(await server.App.Services.GetRequiredService<OpenMint.Api.Dashboard.ChainOverview>().ReadTreasuriesAsync(Ct));
            Assert.Equal((treasury, Minter), (shown.Address, shown.InFlight?.Wallet));
            Assert.True(shown.BalanceWei > 90 * Ether);

            // About ten balance checks while the wallet is still below the threshold and the transfer waits unmined.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.True(await BalanceAsync(Minter) < Low);
            Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM top_up"));
            Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM top_up_attempt"));
            Assert.Equal(0, await NonceAsync(treasury));
            Assert.Equal(1, await NonceAsync(treasury, "pending"));
        }
        finally
        {
            await _rpc.CallAsync("evm_setAutomine", true);
        }
        await _rpc.CallAsync("evm_mine");
        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM top_up WHERE state = 'done'") == 1, "the top-up to be seen mined", TimeSpan.FromSeconds(60));
        Assert.Equal(TopUpTo, await BalanceAsync(Minter));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM top_up"));
        Assert.Equal(1, await NonceAsync(treasury));
    }

    [Fact]
    public async Task a_top_up_pending_past_bump_after_is_replaced_at_the_same_nonce_and_only_one_version_lands()
    {
        var (treasury, keyFile, _) = await TreasuryAsync();
        var (db, tenancy) = await StoreAsync(anvil, keyFile, "treasury-bump");
        await SetBalanceAsync(Minter, 10 * Ether);
        var settings = new Dictionary<string, string?>(Settings) { ["Pipeline:BumpAfter"] = "00:00:01" };
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, settings, database: db, shared: tenancy);
        await _rpc.CallAsync("evm_setAutomine", false);
        try
        {
            await SetBalanceAsync(Minter, 1 * Ether);
            await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM top_up_attempt WHERE broadcast_at IS NOT NULL") >= 2,
                "a replacement of the pending top-up to be sent", TimeSpan.FromSeconds(60));
            Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM top_up"));
            Assert.Equal(1, await NonceAsync(treasury, "pending"));
        }
        finally
        {
            await _rpc.CallAsync("evm_setAutomine", true);
        }
        await _rpc.CallAsync("evm_mine");
        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM top_up WHERE state = 'done'") == 1, "the top-up to be seen mined", TimeSpan.FromSeconds(60));
        // The mined version is one of the stored ones, and it is the only transfer.
        Assert.Equal(1, await server.ScalarAsync("SELECT COUNT(*) FROM top_up t JOIN top_up_attempt a ON a.top_up_id = t.id AND a.hash = t.mined_hash"));
        Assert.Equal(1, await NonceAsync(treasury));
        Assert.Equal(TopUpTo, await BalanceAsync(Minter));
    }

    [Fact]
    public async Task a_top_up_whose_nonce_another_tx_of_the_treasury_key_took_is_abandoned_and_the_dip_gets_a_new_one()
    {
        var (treasury, keyFile, key) = await TreasuryAsync();
        var (db, tenancy) = await StoreAsync(anvil, keyFile, "treasury-foreign");
        await SetBalanceAsync(Minter, 10 * Ether);
        var settings = new Dictionary<string, string?>(Settings) { ["Pipeline:BumpAfter"] = "00:10:00" };
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, settings, database: db, shared: tenancy);
        await _rpc.CallAsync("evm_setAutomine", false);
        try
        {
            await SetBalanceAsync(Minter, 1 * Ether);
            await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM top_up_attempt WHERE broadcast_at IS NOT NULL") == 1,
                "the top-up to be sent", TimeSpan.FromSeconds(60));
            // The same key, elsewhere: a transfer to someone else at nonce 0 that outbids the top-up in the pool.
            var foreign = new Eip1559Transaction(anvil.Deployment.ChainId, 0, 50_000_000_000, 500_000_000_000, 21_000,
                "0x000000000000000000000000000000000000dead", 1, []).Sign(EthKey.FromHex(key));
            await _rpc.CallAsync("eth_sendRawTransaction", "0x" + Convert.ToHexStringLower(foreign.Raw));
            await _rpc.CallAsync("evm_mine");
        }
        finally
        {
            await _rpc.CallAsync("evm_setAutomine", true);
        }
        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM top_up WHERE state = 'abandoned' AND nonce = 0") == 1,
            "the top-up at the taken nonce to be abandoned", TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM top_up WHERE state = 'done' AND nonce = 1") == 1,
            "a new top-up for the same dip, at the next nonce", TimeSpan.FromSeconds(60));
        Assert.Equal(TopUpTo, await BalanceAsync(Minter));
        Assert.Equal(2, await NonceAsync(treasury));
        Assert.Equal(2, await server.ScalarAsync("SELECT COUNT(*) FROM top_up"));
    }

    [Fact]
    public async Task a_crash_between_writing_the_top_up_ahead_and_sending_it_sends_the_same_bytes_after_the_restart()
    {
        var (treasury, keyFile, _) = await TreasuryAsync();
        var (db, _) = await StoreAsync(anvil, keyFile, "treasury-crash");
        await SetBalanceAsync(Minter, 1 * Ether);
        var settings = new Dictionary<string, string> { ["Pipeline:LowBalanceCheckInterval"] = "00:00:00.2" };
        using (var crashing = ServeProcess.Start(db, CrashPoints.TopUpAfterSign, settings))
        {
            Assert.True(await crashing.WaitExitAsync(TimeSpan.FromSeconds(90)), $"the process did not crash after signing the top-up: {crashing.Tail}");
            Assert.NotEqual(0, crashing.Process.ExitCode);
        }
        Assert.Equal(1, await ScalarAsync(db, "SELECT COUNT(*) FROM top_up WHERE state = 'pending'"));
        Assert.Equal(1, await ScalarAsync(db, "SELECT COUNT(*) FROM top_up_attempt WHERE broadcast_at IS NULL AND outcome IS NULL"));
        string signedHash;
        await using (var store = await OpenMintStorage.OpenAsync(db, Ct))
        {
            signedHash = Assert.Single(Assert.Single(await store.Pipeline.ListPendingTopUpsAsync("anvil", Ct)).Attempts).Hash;
        }
        Assert.Equal(0, await NonceAsync(treasury, "pending"));
        Assert.Equal(JsonValueKind.Null, (await _rpc.CallAsync("eth_getTransactionByHash", signedHash)).ValueKind);

        using (var restarted = ServeProcess.Start(db, null, settings))
        {
            await Eventually.TrueAsync(async () =>
            {
                Assert.False(restarted.Process.HasExited, restarted.Tail);
                return await ScalarAsync(db, "SELECT COUNT(*) FROM top_up WHERE state = 'done'") == 1;
            }, "the stored top-up to be sent and mined after the restart", TimeSpan.FromSeconds(90));
            await Task.Delay(TimeSpan.FromSeconds(2));
            restarted.Process.Kill(entireProcessTree: true);
            await restarted.Process.WaitForExitAsync();
        }
        Assert.Equal(1, await ScalarAsync(db, "SELECT COUNT(*) FROM top_up"));
        Assert.Equal(1, await ScalarAsync(db, "SELECT COUNT(*) FROM top_up_attempt"));
        await using (var store = await OpenMintStorage.OpenAsync(db, Ct))
        {
            await using var c = await store.Database.OpenConnectionAsync(Ct);
            Assert.Equal(signedHash, await c.ExecuteScalarAsync<string>("SELECT mined_hash FROM top_up"));
        }
        var receipt = await _rpc.CallAsync("eth_getTransactionReceipt", signedHash);
        Assert.Equal("0x1", receipt.GetProperty("status").GetString());
        Assert.Equal(1, await NonceAsync(treasury));
        Assert.Equal(TopUpTo, await BalanceAsync(Minter));
    }

    [Fact]
    public async Task chain_add_and_update_take_the_treasury_flags_store_only_where_the_key_lives_and_refuse_bad_values()
    {
        var db = TempSqlite.NewDatabaseValue("treasury-cli");
        var minterFile = Path.Combine(_dir, "minter.key");
        await File.WriteAllTextAsync(minterFile, anvil.Deployment.MinterPrivateKey + "\n");
        var (_, keyFile, key) = await TreasuryAsync();
        string[] chain = ["chain", "add", "--name", "anvil", "--chain-id", anvil.Deployment.ChainId.ToString(CultureInfo.InvariantCulture), "--rpc-url", anvil.RpcUrl.ToString(), "--minter-key-file", minterFile];

        Assert.Contains("needs the chain's --low-balance", await ErrorAsync(db, [.. chain, "--treasury-key-file", keyFile, "--top-up-to", "8000"]));
        Assert.Contains("needs --top-up-to", await ErrorAsync(db, [.. chain, "--treasury-key-file", keyFile, "--low-balance", "5000"]));
        Assert.Contains("--top-up-to 3000 must be above the chain's --low-balance 5000", await ErrorAsync(db, [.. chain, "--treasury-key-file", keyFile, "--low-balance", "5000", "--top-up-to", "3000"]));
        Assert.Contains("--top-up-to 'lots' must be a positive whole number of wei", await ErrorAsync(db, [.. chain, "--treasury-key-file", keyFile, "--low-balance", "5000", "--top-up-to", "lots"]));
        Assert.Contains("--top-up-to needs a treasury", await ErrorAsync(db, [.. chain, "--low-balance", "5000", "--top-up-to", "8000"]));
        Assert.Contains("--treasury-key-file takes the path of a file holding the key", await ErrorAsync(db, [.. chain, "--treasury-key-file", key, "--low-balance", "5000", "--top-up-to", "8000"]));
        Assert.Contains("does not exist", await ErrorAsync(db, [.. chain, "--treasury-key-file", Path.Combine(_dir, "missing.key"), "--low-balance", "5000", "--top-up-to", "8000"]));
        Assert.Contains("same account as the minter wallet", await ErrorAsync(db, [.. chain, "--treasury-key-file", minterFile, "--low-balance", "5000", "--top-up-to", "8000"]));
        Assert.Contains("not both", await ErrorAsync(db, [.. chain, "--treasury-key-file", keyFile, "--treasury-key-env", "OPENMINT_TEST_TREASURY", "--low-balance", "5000", "--top-up-to", "8000"]));

        var added = await MultiWalletTests.OkAsync(db, [.. chain, "--treasury-key-file", keyFile, "--low-balance", "5000", "--top-up-to", "8000"]);
        Assert.Equal("file:" + keyFile, (string?)added["treasury_key_ref"]);
        Assert.Equal("8000", (string?)added["top_up_to_wei"]);
        var raised = await MultiWalletTests.OkAsync(db, "chain", "update", "--name", "anvil", "--top-up-to", "9000");
        Assert.Equal(("file:" + keyFile, "9000"), ((string?)raised["treasury_key_ref"], (string?)raised["top_up_to_wei"]));
        Assert.Contains("remove the treasury first with --no-treasury", await ErrorAsync(db, "chain", "update", "--name", "anvil", "--low-balance", "none"));
        Assert.Contains("must be above", await ErrorAsync(db, "chain", "update", "--name", "anvil", "--low-balance", "10000"));
        Assert.Contains("--no-treasury removes the treasury", await ErrorAsync(db, "chain", "update", "--name", "anvil", "--no-treasury", "--top-up-to", "9000"));
        Assert.Contains("same account", await ErrorAsync(db, "chain", "update", "--name", "anvil", "--minter-key-file", keyFile));

        var removed = await MultiWalletTests.OkAsync(db, "chain", "update", "--name", "anvil", "--no-treasury");
        Assert.Null((string?)removed["treasury_key_ref"]);
        Assert.Null((string?)removed["top_up_to_wei"]);
        var byEnv = await MultiWalletTests.OkAsync(db, "chain", "update", "--name", "anvil", "--treasury-key-env", "OPENMINT_TEST_TREASURY", "--top-up-to", "9000");
        Assert.Equal("env:OPENMINT_TEST_TREASURY", (string?)byEnv["treasury_key_ref"]);
        var (code, text, _) = await CliTests.RunAsync("chain", "update", "--name", "anvil", "--top-up-to", "7000", "--database", db);
        Assert.True(code == 0, text);
        Assert.Contains("treasury env:OPENMINT_TEST_TREASURY tops wallets below 5000 wei up to 7000 wei", text);

        // Only where the key lives is stored, never the key.
        var stored = (await MultiWalletTests.OkAsync(db, "chain", "list")).ToJsonString();
        Assert.DoesNotContain(key[2..], stored, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await ScalarAsync(db, $"SELECT COUNT(*) FROM chain WHERE treasury_key_ref LIKE '%{key[2..]}%'"));
    }

    private static async Task<string> ErrorAsync(string database, params string[] args)
    {
        var (code, output, _) = await CliTests.RunAsync([.. args, "--database", database, "--json"]);
        Assert.True(code == 1, $"openmint {string.Join(' ', args)} exited {code}: {output}");
        return (string)JsonNode.Parse(output)!["error"]!;
    }
}
