using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using OpenMint.Chain;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;
using OpenMint.Storage.Telemetry;

namespace OpenMint.Cli;

/// <summary><c>openmint signer status [--chain]</c>: every minter wallet of each chain, its funds and nonces, chain vs store.</summary>
internal static class SignerCommands
{
    /// <summary>Gas of a one-asset mintBatchByQuantity on V2 (GasModel): the dearest common case, so the count is a floor.</summary>
    private static readonly long GasPerSingleMint = GasModel.TxBase(MintMethod.ByQuantity) + GasModel.Entry(MintMethod.ByQuantity, PresetVariant.Erc721V2, 1);

    public static Command Signer()
    {
        var chain = new Option<string?>("--chain") { Description = "Only this chain" };
        var status = new Command("status", "Every minter wallet: address, balance, nonces (chain latest and pending vs store), txs in flight, mints the balance pays for; and the chain's treasury with its top-up in flight") { chain, Commands.Database, Cli.Json };
        status.SetAction(async (parse, ct) =>
        {
            try
            {
                await using var storage = await OpenMintStorage.OpenAsync(parse.GetValue(Commands.Database)!, ct).ConfigureAwait(false);
                var chains = (await storage.Tenancy.ListChainsAsync(ct).ConfigureAwait(false)).Where(c => parse.GetValue(chain) is not { } only || c.Name == only).ToList();
                if (chains.Count == 0)
                {
                    throw new CliException(parse.GetValue(chain) is { } name ? $"unknown chain '{name}'; see: openmint chain list" : "no chains; add one with: openmint chain add --name <name> ...");
                }
                var rows = new SignerRows(storage.Database);
                var results = new List<JsonObject>();
                foreach (var c in chains)
                {
                    if (c.Minters.Count == 0)
                    {
                        results.Add(new JsonObject { ["chain"] = c.Name, ["error"] = $"chain '{c.Name}' has no minter wallet: add one with: openmint chain update --name {c.Name} --minter-key-file <path>" });
                    }
                    foreach (var wallet in MinterWallets.Of(c))
                    {
                        results.Add(await StatusAsync(c, wallet, rows, ct).ConfigureAwait(false));
                    }
                    if (c.TreasuryKeyRef is not null)
                    {
                        results.Add(await TreasuryStatusAsync(c, storage.Pipeline, ct).ConfigureAwait(false));
                    }
                }
                await Cli.Write(parse, new CliResult(new JsonArray([.. results]), string.Join('\n', results.Select(Text)))).ConfigureAwait(false);
                return 0;
            }
            catch (Exception ex) when (ex is CliException or ArgumentException)
            {
                await Cli.Fail(parse, ex.Message).ConfigureAwait(false);
                return 1;
            }
        });
        return new Command("signer", "The chains' minter wallets") { status };
    }

    /// <summary>One wallet: what the store and the chain say about it.</summary>
    private static async Task<JsonObject> StatusAsync(ChainConfig chain, MinterWallet wallet, SignerRows rows, CancellationToken ct)
    {
        var json = new JsonObject { ["chain"] = chain.Name, ["key_ref"] = wallet.KeyRef };
        if (wallet.Address is not { } signer)
        {
            json["error"] = wallet.Problem;
            return json;
        }
        json["signer"] = signer;
        var store = await rows.ReadAsync(chain.Name, signer, ct).ConfigureAwait(false);
        json["nonce_store"] = store.NextNonce;
        json["in_flight"] = store.InFlight;
        json["paused_reason"] = store.PausedReason;
        using var http = new HttpClient();
        var eth = MinterRoleGrant.Client(http, chain);
        try
        {
            var balance = await eth.GetBalanceAsync(signer, ct).ConfigureAwait(false);
            var tip = await eth.MaxPriorityFeePerGasAsync(ct).ConfigureAwait(false);
            var baseFee = (await eth.GetBlockAsync("latest", ct).ConfigureAwait(false))?.BaseFeePerGas ?? BigInteger.Zero;
            var perMint = GasPerSingleMint * (baseFee * 2 + tip);
            json["balance_wei"] = balance.ToString(CultureInfo.InvariantCulture);
            json["nonce_latest"] = await eth.GetTransactionCountAsync(signer, "latest", ct).ConfigureAwait(false);
            json["nonce_pending"] = await eth.GetTransactionCountAsync(signer, "pending", ct).ConfigureAwait(false);
            json["base_fee_wei"] = baseFee.ToString(CultureInfo.InvariantCulture);
            json["max_priority_fee_wei"] = tip.ToString(CultureInfo.InvariantCulture);
            json["mints_affordable"] = perMint.IsZero ? null : (balance / perMint).ToString(CultureInfo.InvariantCulture);
            if (chain.LowBalanceWei is { } low)
            {
                json["low_balance_wei"] = low;
                json["low_balance"] = balance < BigInteger.Parse(low, CultureInfo.InvariantCulture);
            }
        }
        catch (Exception ex) when (ex is RpcTransportException or JsonRpcException)
        {
            json["error"] = $"chain {chain.Name} did not answer: {ex.Message}";
        }
        return json;
    }

    /// <summary>The chain's treasury: address, balance, what it tops up to, and the top-up in flight (docs/transactions.md, "Treasury top-ups").</summary>
    private static async Task<JsonObject> TreasuryStatusAsync(ChainConfig chain, ITopUpStore topUps, CancellationToken ct)
    {
        var wallet = MinterWallets.Resolve(chain.Name, chain.TreasuryKeyRef!);
        var json = new JsonObject { ["chain"] = chain.Name, ["role"] = "treasury", ["key_ref"] = wallet.KeyRef, ["signer"] = wallet.Address,
            ["low_balance_wei"] = chain.LowBalanceWei, ["top_up_to_wei"] = chain.TopUpToWei };
        var pending = (await topUps.ListPendingTopUpsAsync(chain.Name, ct).ConfigureAwait(false)).FirstOrDefault();
        json["top_up_in_flight"] = pending is null ? null : new JsonObject
        {
            ["wallet"] = pending.Wallet, ["value_wei"] = pending.Value.ToString(CultureInfo.InvariantCulture), ["nonce"] = pending.Nonce,
            ["tx_hash"] = pending.Latest.Hash, ["attempts"] = pending.Attempts.Count, ["sent"] = pending.Latest.BroadcastAt is not null,
        };
        if (wallet.Address is not { } address)
        {
            json["error"] = wallet.Problem;
            return json;
        }
        using var http = new HttpClient();
        try
        {
            json["balance_wei"] = (await MinterRoleGrant.Client(http, chain).GetBalanceAsync(address, ct).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is RpcTransportException or JsonRpcException)
        {
            json["error"] = $"chain {chain.Name} did not answer: {ex.Message}";
        }
        return json;
    }

    private static string TreasuryText(JsonObject s) =>
        $"{s["chain"]}: treasury {s["signer"] ?? "-"}, balance {s["balance_wei"] ?? "?"} wei, tops wallets below {s["low_balance_wei"]} wei up to {s["top_up_to_wei"]} wei"
        + (s["top_up_in_flight"] is JsonObject t ? $"\n  top-up in flight: {t["value_wei"]} wei to {t["wallet"]}, nonce {t["nonce"]}, tx {t["tx_hash"]}{((bool)t["sent"]! ? "" : " (signed, not yet sent)")}" : "")
        + (s["error"] is { } error ? $"\n  {error}" : "");

    private static string Text(JsonObject s) => s["role"] is not null ? TreasuryText(s) : s["balance_wei"] is null
        ? $"{s["chain"]}: signer {s["signer"] ?? "-"}: {s["error"]}"
        : $"{s["chain"]}: signer {s["signer"]}, balance {s["balance_wei"]} wei, nonce latest {s["nonce_latest"]} / pending {s["nonce_pending"]} / store {s["nonce_store"]?.ToString() ?? "-"}, "
            + $"{s["in_flight"]} txs in flight, pays for ~{s["mints_affordable"] ?? "unlimited"} single-asset mints at current fees (batches cost less per asset)"
            + (s["low_balance"] is { } low && (bool)low ? $"\n  LOW: the balance is below the chain's low balance of {s["low_balance_wei"]} wei; fund it" : "")
            + (s["paused_reason"] is { } reason ? $"\n  paused: {reason}" : "");
}
