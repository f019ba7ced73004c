using System.Numerics;
using System.Text.Json;
using OpenMint.Chain;

namespace OpenMint.DevChain;

/// <summary>A preset collection on the dev chain.</summary>
/// <param name="Name">erc721, erc721_v1, erc721_mint_by_id, erc1155, erc721_no_minter_role, erc721_minting_disabled.</param>
/// <param name="Contract">The compiled contract: ImmutableERC721V2, ImmutableERC721, ImmutableERC721MintByID, ImmutableERC1155.</param>
/// <param name="Kind">erc721 or erc1155.</param>
/// <param name="MinterHasRole">Whether the minter account holds MINTER_ROLE.</param>
/// <param name="MintingEnabled">What OpenMint should store for it (false only for erc721_minting_disabled).</param>
public sealed record DevCollection(string Name, string Address, string Contract, string Kind, bool MinterHasRole, bool MintingEnabled, string BaseUri);

/// <summary>Where the dev chain is and what is deployed on it.</summary>
public sealed record DevChainDeployment(
    string RpcUrl,
    long ChainId,
    string OwnerAddress,
    string OwnerPrivateKey,
    string MinterAddress,
    string MinterPrivateKey,
    string OperatorAllowlist,
    IReadOnlyList<DevCollection> Collections)
{
    public DevCollection this[string name] => Collections.FirstOrDefault(c => c.Name == name)
        ?? throw new KeyNotFoundException("no dev collection " + name);

    /// <summary>Collection name -> address, in deployment order.</summary>
    public IReadOnlyDictionary<string, string> Addresses => Collections.ToDictionary(c => c.Name, c => c.Address);
}

/// <param name="BaseUriPrefix">Each collection's baseURI is prefix + name + "/" (ERC1155: + "{id}"). The owner can change it with setBaseURI.</param>
public sealed record PresetDeployOptions(string BaseUriPrefix = "https://metadata.invalid/");

/// <summary>
/// Deploys the operator allowlist (behind ERC1967Proxy) and the presets from the unlocked dev owner account,
/// in phases of independent transactions, each phase closed with <c>evm_mine</c> so it works under automine,
/// --block-time and --no-mining alike.
/// </summary>
public static class PresetDeployer
{
    /// <summary>bytes32("MINTER_ROLE").</summary>
    public static readonly byte[] MinterRole = [.. "MINTER_ROLE"u8, .. new byte[21]];

    private static readonly string[] Erc721Ctor = ["address", "string", "string", "string", "string", "address", "address", "uint96"];
    private static readonly string[] Erc1155Ctor = ["address", "string", "string", "string", "address", "address", "uint96"];

    private static readonly (string Name, string Contract, bool MinterHasRole, bool MintingEnabled)[] Plan =
    [
        ("erc721", "ImmutableERC721V2", true, true),
        ("erc721_v1", "ImmutableERC721", true, true),
        ("erc721_mint_by_id", "ImmutableERC721MintByID", true, true),
        ("erc1155", "ImmutableERC1155", true, true),
        ("erc721_no_minter_role", "ImmutableERC721V2", false, true),
        ("erc721_minting_disabled", "ImmutableERC721V2", true, false),
    ];

    public static async Task<DevChainDeployment> DeployAsync(Uri rpcUrl, PresetArtifacts artifacts, PresetDeployOptions? options, CancellationToken ct)
    {
        options ??= new PresetDeployOptions();
        var rpc = DevRpcClient.For(rpcUrl);
        var owner = DevAccounts.OwnerAddress;
        var minter = DevAccounts.MinterAddress;
        var chainId = HexQuantity.ParseLong((await rpc.CallAsync("eth_chainId", [], ct).ConfigureAwait(false)).GetString()!);
        var nonce = HexQuantity.ParseLong((await rpc.CallAsync("eth_getTransactionCount", [owner, "pending"], ct).ConfigureAwait(false)).GetString()!);
        var sender = new PhaseSender(rpc, owner, nonce);

        var impl = (await sender.RunAsync([(null, artifacts["OperatorAllowlistUpgradeable"].Bytecode)], ct).ConfigureAwait(false))[0];
        var init = Abi.EncodeCall("initialize(address,address,address)", owner, owner, owner);
        var proxyData = (byte[])[.. artifacts["ERC1967Proxy"].Bytecode, .. Abi.Encode(["address", "bytes"], [impl, init])];
        var allowlist = (await sender.RunAsync([(null, proxyData)], ct).ConfigureAwait(false))[0];

        var deploys = Plan.Select(p =>
        {
            var bytecode = artifacts[p.Contract].Bytecode;
            var title = "OpenMint Dev " + p.Name;
            var contractUri = options.BaseUriPrefix + p.Name + "/contract.json";
            byte[] args = p.Contract == "ImmutableERC1155"
                ? Abi.Encode(Erc1155Ctor, [owner, title, BaseUri(options, p.Name, true), contractUri, allowlist, owner, new BigInteger(0)])
                : Abi.Encode(Erc721Ctor, [owner, title, "OMD", BaseUri(options, p.Name, false), contractUri, allowlist, owner, new BigInteger(0)]);
            return ((string?)null, (byte[])[.. bytecode, .. args]);
        }).ToList();
        var addresses = await sender.RunAsync(deploys, ct).ConfigureAwait(false);

        var grants = Plan.Select((p, i) => (p, i)).Where(x => x.p.MinterHasRole)
            .Select(x => ((string?)addresses[x.i], Abi.EncodeCall("grantMinterRole(address)", minter))).ToList();
        await sender.RunAsync(grants, ct).ConfigureAwait(false);

        var collections = Plan.Select((p, i) => new DevCollection(
            p.Name, addresses[i], p.Contract, p.Contract == "ImmutableERC1155" ? "erc1155" : "erc721", p.MinterHasRole, p.MintingEnabled,
            BaseUri(options, p.Name, p.Contract == "ImmutableERC1155"))).ToList();
        return new DevChainDeployment(rpcUrl.ToString().TrimEnd('/'), chainId, owner, DevAccounts.OwnerPrivateKey, minter, DevAccounts.MinterPrivateKey, allowlist, collections);
    }

    private static string BaseUri(PresetDeployOptions options, string name, bool erc1155) =>
        options.BaseUriPrefix + name + (erc1155 ? "/{id}" : "/");

    /// <summary>Sends a set of independent transactions with consecutive nonces, mines, and returns per tx the created contract (or the target).</summary>
    private sealed class PhaseSender(JsonRpcClient rpc, string from, long nonce)
    {
        private long _nonce = nonce;

        public async Task<string[]> RunAsync(IReadOnlyList<(string? To, byte[] Data)> txs, CancellationToken ct)
        {
            var hashes = new List<string>();
            foreach (var (to, data) in txs)
            {
                var call = new Dictionary<string, object?> { ["from"] = from, ["data"] = Hex.Encode(data) };
                if (to is not null)
                {
                    call["to"] = to;
                }
                // Estimate, then send with explicit gas: without it Anvil would use the block gas limit.
                var estimate = HexQuantity.ParseLong((await rpc.CallAsync("eth_estimateGas", [call], ct).ConfigureAwait(false)).GetString()!);
                call["gas"] = HexQuantity.Encode(estimate + (estimate / 5));
                call["nonce"] = HexQuantity.Encode(_nonce++);
                hashes.Add((await rpc.CallAsync("eth_sendTransaction", [call], ct).ConfigureAwait(false)).GetString()!);
            }
            var results = new string[hashes.Count];
            for (var round = 0; ; round++)
            {
                var missing = 0;
                for (var i = 0; i < hashes.Count; i++)
                {
                    if (results[i] is not null)
                    {
                        continue;
                    }
                    var receipt = await rpc.CallAsync("eth_getTransactionReceipt", [hashes[i]], ct).ConfigureAwait(false);
                    if (receipt.ValueKind == JsonValueKind.Null)
                    {
                        missing++;
                        continue;
                    }
                    if (receipt.GetProperty("status").GetString() != "0x1")
                    {
                        throw new InvalidOperationException($"dev chain provisioning tx {hashes[i]} reverted");
                    }
                    var created = receipt.GetProperty("contractAddress");
                    results[i] = created.ValueKind == JsonValueKind.String ? created.GetString()!.ToLowerInvariant() : txs[i].To!;
                }
                if (missing == 0)
                {
                    return results;
                }
                if (round > 50)
                {
                    throw new TimeoutException($"{missing} provisioning txs not mined after {round} blocks");
                }
                // Under --no-mining or --block-time nothing is mined yet: mine one block now (a no-op cost under automine).
                await rpc.CallAsync("evm_mine", [], ct).ConfigureAwait(false);
            }
        }
    }
}
