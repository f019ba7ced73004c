using System.CommandLine;
using System.Numerics;
using System.Text.Json.Nodes;
using OpenMint.Chain;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;

namespace OpenMint.Cli;

/// <summary>Whether one minter wallet of the chain holds MINTER_ROLE on a collection; null when it could not be asked (and why).</summary>
internal sealed record MinterRole(string? Minter, bool? HasRole, string? Problem)
{
    public string Text(string chain, string address) => HasRole switch
    {
        true => $"minter {Minter} holds MINTER_ROLE: ready to mint",
        false => $"WARNING: the minter {Minter} lacks MINTER_ROLE on {address}: every mint it sends would revert on chain. Fix (from an account holding DEFAULT_ADMIN_ROLE):\n"
            + $"  openmint collection grant-minter --chain {chain} --address {address} --admin-key-file <file holding the admin's private key>\n"
            + $"  (or call grantMinterRole({Minter}) on the contract from the admin)",
        null => $"MINTER_ROLE not checked{(Minter is null ? "" : " for " + Minter)}: {Problem}",
    };

    public JsonObject ToJson() => new() { ["address"] = Minter, ["has_role"] = HasRole, ["problem"] = Problem };

    /// <summary>All wallets together: false when one lacks the role, null when one could not be asked, true when all hold it.</summary>
    public static bool? All(IReadOnlyList<MinterRole> roles) =>
        roles.Count == 0 || roles.Any(r => r.HasRole == false) ? false : roles.Any(r => r.HasRole is null) ? null : true;
}

/// <summary>
/// <c>openmint collection grant-minter</c>: <c>grantRole(MINTER_ROLE, wallet)</c> for every minter wallet of the chain
/// that lacks it, sent from an admin key and waited for.
/// </summary>
internal static class MinterRoleGrant
{
    private static readonly TimeSpan ReceiptTimeout = TimeSpan.FromMinutes(2);

    public static Command Command()
    {
        var chain = new Option<string>("--chain") { Description = "Chain name", Required = true };
        var address = new Option<string>("--address") { Description = "Collection (contract) address", Required = true };
        var adminKey = new Option<string>("--admin-key-file") { Description = "File holding the private key (hex) of an account with DEFAULT_ADMIN_ROLE", Required = true };
        var command = new Command("grant-minter", "Grant MINTER_ROLE on a collection to every minter wallet of the chain, from an admin key, and wait for it") { chain, address, adminKey };
        return command.WithStore(async (parse, store, ct) =>
        {
            var chainName = parse.GetValue(chain)!;
            var config = await store.GetChainAsync(chainName, ct).ConfigureAwait(false) ?? throw new CliException($"unknown chain '{chainName}'; see: openmint chain list");
            var addr = AdminCommands.ParseAddress(parse.GetValue(address)!, "--address");
            var key = ReadKey(parse.GetValue(adminKey)!);
            var minters = MinterAddresses(config);
            using var http = new HttpClient();
            var eth = Client(http, config);
            var wallets = new JsonArray();
            var lines = new List<string>();
            string? firstHash = null;
            foreach (var minter in minters)
            {
                string? hash = null;
                if (!await CollectionKindDetector.HasMinterRoleAsync(eth, addr, minter, ct).ConfigureAwait(false))
                {
                    var data = Abi.EncodeCall("grantRole(bytes32,address)", CollectionKindDetector.MinterRole, minter);
                    hash = (await SendAsync(eth, config, key, addr, data, $"the key's account must hold DEFAULT_ADMIN_ROLE on {addr}", ct).ConfigureAwait(false)).TransactionHash;
                    firstHash ??= hash;
                }
                var has = await CollectionKindDetector.HasMinterRoleAsync(eth, addr, minter, ct).ConfigureAwait(false);
                wallets.Add(new JsonObject { ["address"] = minter, ["tx_hash"] = hash, ["has_role"] = has });
                lines.Add(hash is null ? $"minter {minter} already holds MINTER_ROLE on {addr}"
                    : has ? $"MINTER_ROLE granted to {minter} on {addr} (tx {hash})" : $"tx {hash} was mined but {minter} still lacks MINTER_ROLE on {addr}");
            }
            var all = wallets.All(w => (bool)w!["has_role"]!);
            return new CliResult(new JsonObject { ["address"] = addr, ["minter"] = minters[0], ["tx_hash"] = firstHash, ["minter_has_role"] = all, ["minters"] = wallets },
                string.Join('\n', lines));
        });
    }

    /// <summary>One answer per minter wallet of the chain (one saying why when the chain has none).</summary>
    public static async Task<IReadOnlyList<MinterRole>> CheckAsync(ChainConfig chain, string address, CancellationToken ct)
    {
        if (chain.Minters.Count == 0)
        {
            return [new MinterRole(null, null, $"chain {chain.Name} has no minter wallet; add one with: openmint chain update --name {chain.Name} --minter-key-file <path>")];
        }
        using var http = new HttpClient();
        var eth = Client(http, chain);
        var roles = new List<MinterRole>();
        foreach (var wallet in MinterWallets.Of(chain))
        {
            if (wallet.Address is null)
            {
                roles.Add(new MinterRole(null, null, wallet.Problem));
                continue;
            }
            try
            {
                roles.Add(new MinterRole(wallet.Address, await CollectionKindDetector.HasMinterRoleAsync(eth, address, wallet.Address, ct).ConfigureAwait(false), null));
            }
            catch (RpcTransportException ex)
            {
                roles.Add(new MinterRole(wallet.Address, null, $"chain {chain.Name} did not answer ({ex.Message})"));
            }
        }
        return roles;
    }

    /// <summary>The address of every minter wallet; an error naming the one whose key cannot be read here.</summary>
    internal static IReadOnlyList<string> MinterAddresses(ChainConfig chain)
    {
        if (chain.Minters.Count == 0)
        {
            throw new CliException($"chain '{chain.Name}' has no minter key: add one with: openmint chain update --name {chain.Name} --minter-key-file <path>");
        }
        return MinterWallets.Of(chain).Select(w => w.Address ?? throw new CliException(w.Problem!)).ToList();
    }

    internal static EthClient Client(HttpClient http, ChainConfig chain) =>
        new(new JsonRpcClient(http, chain.RpcUrls.Select(u => new Uri(u)).ToList(), TimeSpan.FromSeconds(10)));

    internal static EthKey ReadKey(string path, string option = "--admin-key-file")
    {
        if (ChainCommands.LooksLikePrivateKey(path))
        {
            throw new CliException($"{option} takes the path of a file holding the key, not the key itself");
        }
        try
        {
            return EthKey.FromHex(MinterKeys.ResolveHex("admin", "file:" + Path.GetFullPath(path)));
        }
        catch (InvalidOperationException ex)
        {
            throw new CliException($"{option} {path}: {ex.Message.Replace("minter_key_ref", option, StringComparison.Ordinal)}");
        }
    }

    /// <summary>Signs and sends one EIP-1559 transaction from <paramref name="key"/> (a deployment when <paramref name="to"/> is null) and waits for a successful receipt.</summary>
    internal static async Task<TransactionReceipt> SendAsync(EthClient eth, ChainConfig chain, EthKey key, string? to, byte[] data, string whenRefused, CancellationToken ct)
    {
        long gas;
        try
        {
            gas = await eth.EstimateGasAsync(new CallRequest(key.Address, to, data), ct).ConfigureAwait(false);
        }
        catch (JsonRpcException ex)
        {
            throw new CliException($"the chain refuses the transaction from {key.Address} ({ex.Message}); {whenRefused}");
        }
        var nonce = await eth.GetTransactionCountAsync(key.Address, "pending", ct).ConfigureAwait(false);
        var tip = await eth.MaxPriorityFeePerGasAsync(ct).ConfigureAwait(false);
        var baseFee = (await eth.GetBlockAsync("latest", ct).ConfigureAwait(false))?.BaseFeePerGas ?? BigInteger.Zero;
        var signed = new Eip1559Transaction(chain.ChainId, nonce, tip, baseFee * 2 + tip, gas * 6 / 5, to, BigInteger.Zero, data).Sign(key);
        await eth.SendRawTransactionAsync(signed.Raw, ct).ConfigureAwait(false);
        var deadline = DateTime.UtcNow + ReceiptTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await eth.GetTransactionReceiptAsync(signed.Hash, ct).ConfigureAwait(false) is { } receipt)
            {
                return receipt.Success ? receipt : throw new CliException($"transaction {signed.Hash} reverted");
            }
            await Task.Delay(500, ct).ConfigureAwait(false);
        }
        throw new CliException($"transaction {signed.Hash} was sent but not mined within {ReceiptTimeout.TotalMinutes:0} minutes; check it on the chain");
    }
}
