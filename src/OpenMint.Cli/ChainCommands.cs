using System.CommandLine;
using OpenMint.Chain;
using OpenMint.Core.Tenancy;

namespace OpenMint.Cli;

/// <summary><c>openmint chain add|list</c>: the chains OpenMint mints on, checked against their RPC.</summary>
internal static class ChainCommands
{
    public static Command Chain()
    {
        var name = new Argument<string?>("name") { Description = "Chain name as it appears in API paths, e.g. imtbl-zkevm-testnet (or --name)", Arity = ArgumentArity.ZeroOrOne };
        var nameOption = new Option<string?>("--name") { Description = "Chain name (instead of the positional name)" };
        var skipCheck = new Option<bool>("--skip-rpc-check") { Description = "Do not ask the RPC for its chain id (offline setup)" };
        var chainId = new Option<long>("--chain-id") { Description = "EIP-155 chain id", Required = true };
        var rpcUrl = new Option<string[]>("--rpc-url") { Description = "JSON-RPC endpoint; repeat for fallbacks", Required = true };
        var keyFile = new Option<string?>("--minter-key-file") { Description = "File holding the minter's private key (hex); only the path is stored" };
        var keyEnv = new Option<string?>("--minter-key-env") { Description = "Environment variable holding the minter's private key; only its name is stored" };
        var confirmations = new Option<int>("--confirmations") { Description = "Blocks on top of a receipt before a mint counts as succeeded", DefaultValueFactory = _ => 0 };
        var add = new Command("add", "Add or replace a chain; checks that every --rpc-url answers with --chain-id") { name, nameOption, chainId, rpcUrl, keyFile, keyEnv, confirmations, skipCheck };
        add.WithStore(async (parse, store, ct) =>
        {
            var chainName = (parse.GetValue(nameOption) ?? parse.GetValue(name) ?? throw new CliException("name the chain: openmint chain add --name <name> --chain-id <id> --rpc-url <url> ...")).Trim();
            if (chainName.Length == 0 || chainName.Contains('/', StringComparison.Ordinal) || chainName.Any(char.IsWhiteSpace))
            {
                throw new CliException($"chain name '{chainName}' cannot be used in a URL path: use letters, digits and dashes, e.g. imtbl-zkevm-testnet");
            }
            var urls = parse.GetValue(rpcUrl)!;
            foreach (var url in urls)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
                {
                    throw new CliException($"--rpc-url '{url}' is not an http(s) URL, e.g. http://127.0.0.1:8545");
                }
            }
            var id = parse.GetValue(chainId);
            if (id <= 0)
            {
                throw new CliException("--chain-id must be a positive EIP-155 chain id, e.g. 13473 (Immutable zkEVM testnet) or 31337 (Anvil)");
            }
            var conf = parse.GetValue(confirmations);
            if (conf < 0)
            {
                throw new CliException("--confirmations must be 0 or more");
            }
            var keyRef = MinterKeyRef(parse.GetValue(keyFile), parse.GetValue(keyEnv));
            if (!parse.GetValue(skipCheck))
            {
                await CheckChainIdAsync(urls, id, ct).ConfigureAwait(false);
            }
            var existing = await store.GetChainAsync(chainName, ct).ConfigureAwait(false);
            var chain = new ChainConfig(chainName, id, urls, keyRef, conf, existing?.CreatedAt ?? DateTimeOffset.UtcNow);
            await store.UpsertChainAsync(chain, ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(chain), $"chain {chainName} (chain id {id}) {(existing is null ? "added" : "updated")}; minter key: {keyRef ?? "none (cannot mint until one is set)"}");
        });
        var list = new Command("list", "List chains").WithStore(async (parse, store, ct) =>
        {
            var chains = await store.ListChainsAsync(ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(chains), chains.Count == 0 ? "no chains; add one with: openmint chain add --name <name> --chain-id <id> --rpc-url <url> --minter-key-file <path>"
                : string.Join('\n', chains.Select(c => $"{c.Name}\tchain id {c.ChainId}\t{string.Join(", ", c.RpcUrls)}\tminter {c.MinterKeyRef ?? "-"}\tconfirmations {c.Confirmations}")));
        });
        return new Command("chain", "Chains OpenMint mints on") { add, list };
    }

    /// <summary>Private keys never enter the store: only where to find them.</summary>
    private static string? MinterKeyRef(string? file, string? env)
    {
        if (file is not null && env is not null)
        {
            throw new CliException("give either --minter-key-file or --minter-key-env, not both");
        }
        if (file is not null)
        {
            if (LooksLikePrivateKey(file))
            {
                throw new CliException("--minter-key-file takes the path of a file holding the key, not the key itself (keys never go into the store)");
            }
            var full = Path.GetFullPath(file);
            if (!File.Exists(full))
            {
                throw new CliException($"--minter-key-file {full} does not exist; write the minter's hex private key into that file (chmod 600) and run again");
            }
            return "file:" + full;
        }
        if (env is not null)
        {
            if (LooksLikePrivateKey(env) || env.Length == 0 || !env.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
            {
                throw new CliException("--minter-key-env takes the NAME of an environment variable (e.g. OPENMINT_MINTER_KEY), not the key itself");
            }
            return "env:" + env;
        }
        return null;
    }

    internal static bool LooksLikePrivateKey(string s)
    {
        var hex = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s;
        return hex.Length == 64 && hex.All(char.IsAsciiHexDigit);
    }

    /// <summary>Every URL answers <c>eth_chainId</c> with <paramref name="expected"/>; the error says which did not and how to fix it.</summary>
    private static async Task CheckChainIdAsync(IReadOnlyList<string> urls, long expected, CancellationToken ct)
    {
        using var http = new HttpClient();
        foreach (var url in urls)
        {
            long actual;
            try
            {
                actual = await new EthClient(new JsonRpcClient(http, [new Uri(url)], TimeSpan.FromSeconds(10))).ChainIdAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RpcTransportException or JsonRpcException or HttpRequestException or TaskCanceledException)
            {
                throw new CliException($"--rpc-url {url} does not answer eth_chainId ({ex.Message}); check the URL and that the node runs (or pass --skip-rpc-check to add it anyway)");
            }
            if (actual != expected)
            {
                throw new CliException($"--rpc-url {url} is chain id {actual}, not --chain-id {expected}; fix --chain-id or the URL");
            }
        }
    }
}
