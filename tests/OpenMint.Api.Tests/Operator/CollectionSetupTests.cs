using System.Text.Json;
using System.Text.Json.Nodes;
using OpenMint.Api.Tests.Minting;
using OpenMint.Core.Tenancy;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Operator;

/// <summary>Tests that set process environment variables (OPENMINT_DATABASE) run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class ProcessEnvironment
{
    public const string Name = "process environment";
}

/// <summary><c>chain add</c> asks the RPC; <c>collection add</c> reads kind, preset and MINTER_ROLE from the contract; <c>grant-minter</c> fixes the role.</summary>
public sealed class CollectionSetupTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("openmint-setup-").FullName;

    private string Database => "sqlite:" + Path.Combine(_dir, "setup.db");

    private async Task<JsonNode> OkAsync(params string[] args)
    {
        var (code, output, error) = await CliTests.RunAsync([.. args, "--database", Database, "--json"]);
        Assert.True(code == 0, $"openmint {string.Join(' ', args)} exited {code}: {output} {error}");
        return JsonNode.Parse(output)!;
    }

    private async Task<string> ErrorAsync(params string[] args)
    {
        var (code, output, _) = await CliTests.RunAsync([.. args, "--database", Database, "--json"]);
        Assert.Equal(1, code);
        return (string)JsonNode.Parse(output)!["error"]!;
    }

    private async Task<string> KeyFileAsync(string name, string key)
    {
        var path = Path.Combine(_dir, name);
        await File.WriteAllTextAsync(path, key + "\n");
        return path;
    }

    private async Task<string> SetUpAsync()
    {
        var minterKey = await KeyFileAsync("minter.key", anvil.Deployment.MinterPrivateKey);
        await OkAsync("chain", "add", "--name", "anvil", "--chain-id", anvil.Deployment.ChainId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--rpc-url", anvil.RpcUrl.ToString(), "--minter-key-file", minterKey);
        return (string)(await OkAsync("project", "create", "--name", "setup", "--owner-address", anvil.Deployment.OwnerAddress))["id"]!;
    }

    [Fact]
    public async Task chain_add_takes_name_as_an_option_and_refuses_a_wrong_chain_id_or_a_silent_rpc()
    {
        var chain = await OkAsync("chain", "add", "--name", "anvil", "--chain-id", "31337", "--rpc-url", anvil.RpcUrl.ToString());
        Assert.Equal("anvil", (string?)chain["name"]);
        var wrong = await ErrorAsync("chain", "add", "--name", "other", "--chain-id", "13473", "--rpc-url", anvil.RpcUrl.ToString());
        Assert.Contains("is chain id 31337, not --chain-id 13473", wrong);
        var silent = await ErrorAsync("chain", "add", "--name", "other", "--chain-id", "13473", "--rpc-url", $"http://127.0.0.1:{Refresh.MetadataTestServer.FreePort()}");
        Assert.Contains("does not answer eth_chainId", silent);
        Assert.Contains("--skip-rpc-check", silent);
        Assert.Single((await OkAsync("chain", "list")).AsArray());
    }

    [Theory]
    [InlineData("erc721", "erc721", PresetVariant.Erc721V2)]
    [InlineData("erc721_v1", "erc721", PresetVariant.Erc721V1)]
    [InlineData("erc721_mint_by_id", "erc721", PresetVariant.Erc721MintById)]
    [InlineData("erc1155", "erc1155", PresetVariant.Erc1155)]
    public async Task collection_add_reads_kind_and_preset_from_the_contract_and_checks_the_minter_role(string collection, string kind, PresetVariant variant)
    {
        var project = await SetUpAsync();
        var added = await OkAsync("collection", "add", "--chain", "anvil", "--address", anvil.Deployment[collection].Address, "--project", project);
        Assert.Equal(kind, (string?)added["kind"]);
        Assert.Equal(JsonNamingPolicy.SnakeCaseLower.ConvertName(variant.ToString()), (string?)added["variant"]);
        Assert.True((bool)added["kind_detected"]!);
        Assert.True((bool)added["minter_has_role"]!);
        Assert.Equal(anvil.Deployment.MinterAddress.ToLowerInvariant(), ((string?)added["minter_address"])?.ToLowerInvariant());
    }

    [Fact]
    public async Task a_collection_whose_minter_lacks_the_role_is_linked_with_the_fix_and_grant_minter_applies_it()
    {
        var project = await SetUpAsync();
        var address = anvil.Deployment["erc721_no_minter_role"].Address;
        var (code, text, _) = await CliTests.RunAsync("collection", "add", "--chain", "anvil", "--address", address, "--project", project, "--database", Database);
        Assert.Equal(0, code);
        Assert.Contains("lacks MINTER_ROLE", text);
        Assert.Contains($"openmint collection grant-minter --chain anvil --address {address.ToLowerInvariant()} --admin-key-file", text);
        Assert.False((bool)(await OkAsync("collection", "update", "--chain", "anvil", "--address", address))["minter_has_role"]!);

        var notAdmin = await KeyFileAsync("not-admin.key", anvil.Deployment.MinterPrivateKey);
        Assert.Contains("DEFAULT_ADMIN_ROLE", await ErrorAsync("collection", "grant-minter", "--chain", "anvil", "--address", address, "--admin-key-file", notAdmin));

        var admin = await KeyFileAsync("admin.key", anvil.Deployment.OwnerPrivateKey);
        var granted = await OkAsync("collection", "grant-minter", "--chain", "anvil", "--address", address, "--admin-key-file", admin);
        Assert.True((bool)granted["minter_has_role"]!);
        Assert.StartsWith("0x", (string?)granted["tx_hash"]);
        Assert.Null((string?)(await OkAsync("collection", "grant-minter", "--chain", "anvil", "--address", address, "--admin-key-file", admin))["tx_hash"]);
        Assert.True((bool)(await OkAsync("collection", "update", "--chain", "anvil", "--address", address))["minter_has_role"]!);
    }

    [Theory]
    [InlineData("erc721", PresetVariant.Erc721V2)]
    [InlineData("erc721-mint-by-id", PresetVariant.Erc721MintById)]
    [InlineData("erc1155", PresetVariant.Erc1155)]
    public async Task collection_deploy_deploys_the_preset_grants_the_minter_and_links_it(string kind, PresetVariant variant)
    {
        var project = await SetUpAsync();
        var deployer = await KeyFileAsync("deployer.key", anvil.Deployment.OwnerPrivateKey);
        var deployed = await OkAsync("collection", "deploy", "--chain", "anvil", "--kind", kind, "--name", "Deployed", "--symbol", "DEP",
            "--base-uri", "https://example.com/meta/", "--contract-uri", "https://example.com/contract.json", "--owner-address", anvil.Deployment.OwnerAddress,
            "--deployer-key-file", deployer, "--project", project);
        var address = (string)deployed["address"]!;
        Assert.Matches("^0x[0-9a-f]{40}$", address);
        Assert.Equal(JsonNamingPolicy.SnakeCaseLower.ConvertName(variant.ToString()), (string?)deployed["variant"]);
        Assert.StartsWith("0x", (string?)deployed["tx_hash"]);
        Assert.True((bool)deployed["minter_has_role"]!);

        // What the chain says about it, read back the way collection add reads any contract.
        var linked = await OkAsync("collection", "update", "--chain", "anvil", "--address", address);
        Assert.Equal(project, (string?)linked["project_id"]);
        Assert.True((bool)linked["minter_has_role"]!);
        var (_, list, _) = await CliTests.RunAsync("collection", "list", "--database", Database, "--json");
        Assert.Contains(address, list);
        var detected = await new CollectionSetupProbe(anvil.RpcUrl).VariantAsync(address);
        Assert.Equal(variant, detected);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary>Reads a contract's preset the way collection add does.</summary>
internal sealed class CollectionSetupProbe(Uri rpc)
{
    public async Task<PresetVariant?> VariantAsync(string address)
    {
        using var http = new HttpClient();
        var eth = new OpenMint.Chain.EthClient(new OpenMint.Chain.JsonRpcClient(http, [rpc], TimeSpan.FromSeconds(10)));
        return await OpenMint.Core.Minting.CollectionKindDetector.DetectVariantAsync(eth, address, CancellationToken.None);
    }
}
