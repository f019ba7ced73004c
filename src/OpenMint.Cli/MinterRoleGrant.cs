using System.CommandLine;
using System.Numerics;
using System.Text.Json.Nodes;
using OpenMint.Chain;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;

namespace OpenMint.Cli;

/// <summary>Whether the chain's minter holds MINTER_ROLE on a collection; null when it could not be asked (and why).</summary>
internal sealed record MinterRole(string? Minter, bool? HasRole, string? Problem)
{
    public string Text(string chain, string address) => HasRole switch
    {
        true => $"minter {Minter} holds MINTER_ROLE: ready to mint",
        false => $"WARNING: the minter {Minter} lacks MINTER_ROLE on {address}: every mint would revert on chain. Fix (from an account holding DEFAULT_ADMIN_ROLE):\n"
            + $"  openmint collection grant-minter --chain {chain} --address {address} --admin-key-file <file holding the admin's private key>\n"
            + $"  (or call grantMinterRole({Minter}) on the contract from the admin)",
        null => $"MINTER_ROLE not checked: {Problem}",
    };
}

/// <summary><c>openmint collection grant-minter</c>: <c>grantRole(MINTER_ROLE, minter)</c> sent from an admin key, waited for.</summary>
internal static class MinterRoleGrant
{
    private static readonly TimeSpan ReceiptTimeout = TimeSpan.FromMinutes(2);

    public static Command Command()
    {
        var chain = new Option<string>("--chain") { Description = "Chain name", Required = true };
        var address = new Option<string>("--address") { Description = "Collection (contract) address", Required = true };
        var adminKey = new Option<string>("--admin-key-file") { Description = "File holding the private key (hex) of an account with DEFAULT_ADMIN_ROLE", Required = true };
        var command = new Command("grant-minter", "Grant MINTER_ROLE on a collection to the chain's minter, from an admin key, and wait for it") { chain, address, adminKey };
        return command.WithStore(async (parse, store, ct) =>
        {
            var chainName = parse.GetValue(chain)!;
            var config = await store.GetChainAsync(chainName, ct).ConfigureAwait(false) ?? throw new CliException($"unknown chain '{chainName}'; see: openmint chain list");
            var addr = AdminCommands.ParseAddress(parse.GetValue(address)!, "--address");
            var key = ReadKey(parse.GetValue(adminKey)!);
            var minter = MinterAddress(config);
            using var http = new HttpClient();
            var eth = Client(http, config);
            if (await CollectionKindDetector.HasMinterRoleAsync(eth, addr, minter, ct).ConfigureAwait(false))
            {
                return new CliResult(new JsonObject { ["address"] = addr, ["minter"] = minter, ["tx_hash"] = null, ["minter_has_role"] = true },
                    $"minter {minter} already holds MINTER_ROLE on {addr}");
            }
            var data = Abi.EncodeCall("grantRole(bytes32,address)", CollectionKindDetector.MinterRole, minter);
            var hash = (await SendAsync(eth, config, key, addr, data, $"the key's account must hold DEFAULT_ADMIN_ROLE on {addr}", ct).ConfigureAwait(false)).TransactionHash;
            var granted = await CollectionKindDetector.HasMinterRoleAsync(eth, addr, minter, ct).ConfigureAwait(false);
            return new CliResult(new JsonObject { ["address"] = addr, ["minter"] = minter, ["tx_hash"] = hash, ["minter_has_role"] = granted },
                granted ? $"MINTER_ROLE granted to {minter} on {addr} (tx {hash})" : $"tx {hash} was mined but {minter} still lacks MINTER_ROLE on {addr}");
        });
    }

    public static async Task<MinterRole> CheckAsync(ChainConfig chain, string address, CancellationToken ct)
    {
        string minter;
        try
        {
            minter = MinterAddress(chain);
        }
        catch (InvalidOperationException ex)
        {
            return new MinterRole(null, null, ex.Message);
        }
        using var http = new HttpClient();
        try
        {
            return new MinterRole(minter, await CollectionKindDetector.HasMinterRoleAsync(Client(http, chain), address, minter, ct).ConfigureAwait(false), null);
        }
        catch (RpcTransportException ex)
        {
            return new MinterRole(minter, null, $"chain {chain.Name} did not answer ({ex.Message})");
        }
    }

    internal static string MinterAddress(ChainConfig chain) => EthKey.FromHex(MinterKeys.ResolveHex(chain.Name, chain.MinterKeyRef)).Address;

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
