using System.CommandLine;
using System.Text.Json.Nodes;
using OpenMint.Cli;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Minting;

/// <summary>The operator CLI, called in-process through its command tree with --json.</summary>
[Collection(Operator.ProcessEnvironment.Name)]
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"openmint-cli-{Guid.NewGuid():N}");
    private readonly string _database;

    public CliTests()
    {
        Directory.CreateDirectory(_dir);
        _database = "sqlite:" + Path.Combine(_dir, "cli.db");
    }

    internal static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await Commands.Root().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    private async Task<JsonNode> JsonOkAsync(params string[] args)
    {
        var (code, output, error) = await RunAsync([.. args, "--database", _database, "--json"]);
        Assert.True(code == 0, $"openmint {string.Join(' ', args)} exited {code}: {output} {error}");
        return JsonNode.Parse(output)!;
    }

    private async Task<string> JsonErrorAsync(params string[] args)
    {
        var (code, output, _) = await RunAsync([.. args, "--database", _database, "--json"]);
        Assert.Equal(1, code);
        return (string)JsonNode.Parse(output)!["error"]!;
    }

    [Fact]
    public async Task an_operator_sets_up_chain_project_key_and_collection_with_json_output()
    {
        Assert.Equal(["0001_core"], (await JsonOkAsync("db", "migrate"))["applied"]!.AsArray().Select(n => (string)n!).Take(1).ToArray());
        Assert.Empty((await JsonOkAsync("db", "migrate"))["applied"]!.AsArray());

        var keyFile = Path.Combine(_dir, "minter.key");
        await File.WriteAllTextAsync(keyFile, "0x" + new string('1', 64));
        var chain = await JsonOkAsync("chain", "add", "anvil", "--chain-id", "31337", "--rpc-url", "http://127.0.0.1:8545", "--rpc-url", "http://127.0.0.1:8546", "--minter-key-file", keyFile, "--confirmations", "2", "--skip-rpc-check");
        Assert.Equal("file:" + keyFile, (string?)chain["minter_key_ref"]);
        Assert.Equal(2, chain["rpc_urls"]!.AsArray().Count);
        Assert.Equal("anvil", (string?)(await JsonOkAsync("chain", "list"))[0]!["name"]);

        var project = await JsonOkAsync("project", "create", "--name", "demo", "--owner-address", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "--mint-limit-per-minute", "50");
        var projectId = (string)project["id"]!;
        Assert.Equal("0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2a", (string?)project["owner_address"]);
        Assert.Equal(50, (int)project["mint_limit_per_minute"]!);
        Assert.Equal(5000, (int)(await JsonOkAsync("project", "update", "--id", projectId, "--mint-limit-per-minute", "5000"))["mint_limit_per_minute"]!);

        var key = await JsonOkAsync("key", "create", "--project", projectId);
        var secret = (string)key["secret"]!;
        var store = await OpenMintStorage.OpenAsync(_database, CancellationToken.None);
        try
        {
            Assert.Equal((string?)key["id"], (await store.Tenancy.FindApiKeyAsync(secret, CancellationToken.None))?.Id);
            var listed = (await JsonOkAsync("key", "list", "--project", projectId)).AsArray();
            Assert.DoesNotContain(secret, listed.ToJsonString(), StringComparison.Ordinal);

            var collection = await JsonOkAsync("collection", "add", "--chain", "anvil", "--address", "0x00000000000000000000000000000000000000C1", "--project", projectId, "--kind", "erc1155", "--base-uri", "https://meta.example/");
            Assert.Equal("0x00000000000000000000000000000000000000c1", (string?)collection["address"]);
            Assert.Equal("erc1155", (string?)collection["kind"]);
            Assert.Equal("erc1155", (string?)collection["variant"]);
            Assert.True((bool)collection["minting_enabled"]!);
            var updated = await JsonOkAsync("collection", "update", "--chain", "anvil", "--address", "0x00000000000000000000000000000000000000c1", "--minting-enabled", "false", "--base-uri", "");
            Assert.False((bool)updated["minting_enabled"]!);
            Assert.Null(updated["base_uri_override"]);
            var stored = await store.Tenancy.GetCollectionAsync("anvil", "0x00000000000000000000000000000000000000c1", CancellationToken.None);
            Assert.False(stored!.MintingEnabled);
            Assert.Single((await JsonOkAsync("collection", "list", "--project", projectId)).AsArray());

            Assert.True((bool)(await JsonOkAsync("key", "revoke", (string)key["id"]!))["revoked"]!);
            Assert.Null(await store.Tenancy.FindApiKeyAsync(secret, CancellationToken.None));
        }
        finally
        {
            await store.DisposeAsync();
        }
    }

    [Fact]
    public async Task mistakes_exit_1_with_a_message_that_says_how_to_fix_them()
    {
        Assert.Contains("not the key itself", await JsonErrorAsync("chain", "add", "anvil", "--chain-id", "1", "--rpc-url", "http://127.0.0.1:8545", "--minter-key-file", "0x" + new string('a', 64)));
        Assert.Contains("not the key itself", await JsonErrorAsync("chain", "add", "anvil", "--chain-id", "1", "--rpc-url", "http://127.0.0.1:8545", "--minter-key-env", new string('a', 64)));
        Assert.Contains("does not exist", await JsonErrorAsync("chain", "add", "anvil", "--chain-id", "1", "--rpc-url", "http://127.0.0.1:8545", "--minter-key-file", Path.Combine(_dir, "missing.key")));
        Assert.Contains("http(s) URL", await JsonErrorAsync("chain", "add", "anvil", "--chain-id", "1", "--rpc-url", "localhost"));
        Assert.Contains("openmint chain add", await JsonErrorAsync("collection", "add", "--chain", "nowhere", "--address", "0x00000000000000000000000000000000000000c1", "--project", "p", "--kind", "erc721"));
        Assert.Contains("0x followed by 40 hex", await JsonErrorAsync("project", "create", "--name", "x", "--owner-address", "0x123"));
        Assert.Contains("openmint project list", await JsonErrorAsync("key", "create", "--project", "no-such-project"));
        Assert.Contains("openmint key list", await JsonErrorAsync("key", "revoke", "no-such-key"));

        var (code, output, error) = await RunAsync("project", "create", "--name", "x", "--owner-address", "0x123", "--database", _database);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_database_comes_from_OPENMINT_DATABASE_when_not_given()
    {
        var before = Environment.GetEnvironmentVariable("OPENMINT_DATABASE");
        Environment.SetEnvironmentVariable("OPENMINT_DATABASE", _database);
        try
        {
            var (code, output, _) = await RunAsync("db", "migrate", "--json");
            Assert.Equal(0, code);
            Assert.Equal(_database, (string?)JsonNode.Parse(output)!["database"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("OPENMINT_DATABASE", before);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>collection add without --kind asks the contract (ERC-165) on a real Anvil with the presets.</summary>
public sealed class CliKindDetectionTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    [Fact]
    public async Task collection_add_without_kind_detects_erc721_and_erc1155_via_erc165()
    {
        var database = "sqlite:" + Path.Combine(Path.GetTempPath(), $"openmint-cli-165-{Guid.NewGuid():N}.db");
        async Task<JsonNode> Ok(params string[] args)
        {
            var (code, output, error) = await CliTests.RunAsync([.. args, "--database", database, "--json"]);
            Assert.True(code == 0, $"{string.Join(' ', args)}: {output} {error}");
            return JsonNode.Parse(output)!;
        }
        await Ok("chain", "add", "anvil", "--chain-id", anvil.Deployment.ChainId.ToString(), "--rpc-url", anvil.RpcUrl.ToString());
        var projectId = (string)(await Ok("project", "create", "--name", "d", "--owner-address", anvil.Deployment.OwnerAddress))["id"]!;

        var erc721 = await Ok("collection", "add", "--chain", "anvil", "--address", anvil.Deployment["erc721"].Address, "--project", projectId);
        Assert.Equal("erc721", (string?)erc721["kind"]);
        Assert.True((bool)erc721["kind_detected"]!);
        var erc1155 = await Ok("collection", "add", "--chain", "anvil", "--address", anvil.Deployment["erc1155"].Address, "--project", projectId);
        Assert.Equal("erc1155", (string?)erc1155["kind"]);

        var (code, output, _) = await CliTests.RunAsync("collection", "add", "--chain", "anvil", "--address", anvil.Deployment.OwnerAddress, "--project", projectId, "--database", database, "--json");
        Assert.Equal(1, code);
        Assert.Contains("--kind", (string)JsonNode.Parse(output)!["error"]!);
    }
}
