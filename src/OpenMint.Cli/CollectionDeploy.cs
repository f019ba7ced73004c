using System.CommandLine;
using System.Numerics;
using System.Text.Json.Nodes;
using OpenMint.Chain;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using OpenMint.DevChain;
using Tenancy = OpenMint.Core.Tenancy;

namespace OpenMint.Cli;

/// <summary>
/// <c>openmint collection deploy</c>: the Hub's "deploy with Minting API enabled" in one command. Deploys Immutable's
/// preset (compiled from the pinned <c>@imtbl/contracts</c> sources in tools/chain), with an operator allowlist (a new
/// one behind ERC1967Proxy unless <c>--operator-allowlist</c> names one), grants MINTER_ROLE to every minter wallet of the chain and
/// links the collection to the project.
/// </summary>
internal static class CollectionDeploy
{
    private static readonly string[] Erc721Ctor = ["address", "string", "string", "string", "string", "address", "address", "uint96"];
    private static readonly string[] Erc1155Ctor = ["address", "string", "string", "string", "address", "address", "uint96"];

    private sealed record Options(Option<string> Chain, Option<string> Kind, Option<string> Name, Option<string> Symbol, Option<string> BaseUri,
        Option<string> ContractUri, Option<string> Owner, Option<string> DeployerKey, Option<string> Project, Option<string?> Allowlist);

    public static Command Command()
    {
        var o = new Options(
            new Option<string>("--chain") { Description = "Chain name", Required = true },
            new Option<string>("--kind") { Description = "erc721 (ImmutableERC721V2), erc721-mint-by-id or erc1155", Required = true },
            new Option<string>("--name") { Description = "Collection name", Required = true },
            new Option<string>("--symbol") { Description = "Symbol (ERC721; ignored for erc1155)", DefaultValueFactory = _ => "" },
            new Option<string>("--base-uri") { Description = "Metadata base URI (token id appended)", Required = true },
            new Option<string>("--contract-uri") { Description = "Contract-level metadata URI", Required = true },
            new Option<string>("--owner-address") { Description = "Gets DEFAULT_ADMIN_ROLE and royalties; use the deployer's address so the minter can be granted here", Required = true },
            new Option<string>("--deployer-key-file") { Description = "File holding the private key (hex) that pays for and sends the deployment", Required = true },
            new Option<string>("--project") { Description = "Project id to link the collection to", Required = true },
            new Option<string?>("--operator-allowlist") { Description = "An existing OperatorAllowlist proxy to use instead of deploying one" });
        var command = new Command("deploy", "Deploy an Immutable preset collection, grant the chain's minter MINTER_ROLE and link it to a project")
        {
            o.Chain, o.Kind, o.Name, o.Symbol, o.BaseUri, o.ContractUri, o.Owner, o.DeployerKey, o.Project, o.Allowlist,
        };
        return command.WithStore((parse, store, ct) => DeployAsync(parse, store, o, ct));
    }

    private static async Task<CliResult> DeployAsync(ParseResult parse, ITenancyStore store, Options o, CancellationToken ct)
    {
        var chain = await store.GetChainAsync(parse.GetValue(o.Chain)!, ct).ConfigureAwait(false) ?? throw new CliException($"unknown chain '{parse.GetValue(o.Chain)}'; see: openmint chain list");
        var project = await AdminCommands.RequireProjectAsync(store, parse.GetValue(o.Project)!, ct).ConfigureAwait(false);
        var (contract, variant) = parse.GetValue(o.Kind)!.Trim().ToLowerInvariant() switch
        {
            "erc721" => ("ImmutableERC721V2", PresetVariant.Erc721V2),
            "erc721-mint-by-id" => ("ImmutableERC721MintByID", PresetVariant.Erc721MintById),
            "erc1155" => ("ImmutableERC1155", PresetVariant.Erc1155),
            var k => throw new CliException($"--kind '{k}' is not erc721, erc721-mint-by-id or erc1155"),
        };
        var owner = AdminCommands.ParseAddress(parse.GetValue(o.Owner)!, "--owner-address");
        var key = MinterRoleGrant.ReadKey(parse.GetValue(o.DeployerKey)!, "--deployer-key-file");
        var minters = MinterRoleGrant.MinterAddresses(chain);
        PresetArtifacts artifacts;
        try
        {
            artifacts = PresetArtifacts.Load();
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            throw new CliException($"the compiled presets are missing ({ex.Message}); run ./openmint dev once at the repository root (it compiles tools/chain)");
        }
        using var http = new HttpClient();
        var eth = MinterRoleGrant.Client(http, chain);
        var allowlist = parse.GetValue(o.Allowlist) is { } given ? AdminCommands.ParseAddress(given, "--operator-allowlist")
            : await DeployAllowlistAsync(eth, chain, key, owner, artifacts, ct).ConfigureAwait(false);

        var args = variant == PresetVariant.Erc1155
            ? Abi.Encode(Erc1155Ctor, [owner, parse.GetValue(o.Name)!, parse.GetValue(o.BaseUri)!, parse.GetValue(o.ContractUri)!, allowlist, owner, BigInteger.Zero])
            : Abi.Encode(Erc721Ctor, [owner, parse.GetValue(o.Name)!, parse.GetValue(o.Symbol)!, parse.GetValue(o.BaseUri)!, parse.GetValue(o.ContractUri)!, allowlist, owner, BigInteger.Zero]);
        var deployed = await MinterRoleGrant.SendAsync(eth, chain, key, null, [.. artifacts[contract].Bytecode, .. args], "the deployer needs funds for gas", ct).ConfigureAwait(false);
        var address = deployed.ContractAddress!.ToLowerInvariant();

        var granted = false;
        if (string.Equals(key.Address, owner, StringComparison.OrdinalIgnoreCase))
        {
            granted = true;
            foreach (var minter in minters)
            {
                await MinterRoleGrant.SendAsync(eth, chain, key, address, Abi.EncodeCall("grantMinterRole(address)", minter), "the owner must hold DEFAULT_ADMIN_ROLE", ct).ConfigureAwait(false);
                granted &= await CollectionKindDetector.HasMinterRoleAsync(eth, address, minter, ct).ConfigureAwait(false);
            }
        }
        var kind = variant == PresetVariant.Erc1155 ? CollectionKind.Erc1155 : CollectionKind.Erc721;
        await store.AddCollectionAsync(new Tenancy.Collection(0, chain.Name, address, project.Id, kind, variant, null, true, DateTimeOffset.UtcNow), ct).ConfigureAwait(false);
        var json = new JsonObject
        {
            ["address"] = address, ["kind"] = kind == CollectionKind.Erc1155 ? "erc1155" : "erc721", ["variant"] = Cli.ToJson(variant),
            ["tx_hash"] = deployed.TransactionHash, ["operator_allowlist"] = allowlist, ["minter_has_role"] = granted,
        };
        var roles = minters.Select(m => new MinterRole(m, granted, null).Text(chain.Name, address));
        return new CliResult(json, $"{contract} deployed at {address} (tx {deployed.TransactionHash}), linked to project {project.Id}\n{string.Join('\n', roles)}");
    }

    /// <summary>OperatorAllowlistUpgradeable behind ERC1967Proxy, initialised with <paramref name="owner"/> as every admin.</summary>
    private static async Task<string> DeployAllowlistAsync(EthClient eth, ChainConfig chain, EthKey key, string owner, PresetArtifacts artifacts, CancellationToken ct)
    {
        var impl = await MinterRoleGrant.SendAsync(eth, chain, key, null, artifacts["OperatorAllowlistUpgradeable"].Bytecode, "the deployer needs funds for gas", ct).ConfigureAwait(false);
        var init = Abi.EncodeCall("initialize(address,address,address)", owner, owner, owner);
        var proxy = await MinterRoleGrant.SendAsync(eth, chain, key, null, [.. artifacts["ERC1967Proxy"].Bytecode, .. Abi.Encode(["address", "bytes"], [impl.ContractAddress!, init])],
            "the deployer needs funds for gas", ct).ConfigureAwait(false);
        return proxy.ContractAddress!.ToLowerInvariant();
    }
}
