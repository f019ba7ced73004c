using System.CommandLine;
using OpenMint.Chain;
using OpenMint.Core.Tenancy;

namespace OpenMint.Cli;

/// <summary><c>openmint chain add|update|list</c>: the chains OpenMint mints on, checked against their RPC, and their minter wallets.</summary>
internal static class ChainCommands
{
    public static Command Chain()
    {
        var o = new ChainOptions();
        var chainId = new Option<long>("--chain-id") { Description = "EIP-155 chain id", Required = true };
        var rpcUrl = new Option<string[]>("--rpc-url") { Description = "JSON-RPC endpoint; repeat for fallbacks", Required = true };
        var confirmations = new Option<int>("--confirmations") { Description = "Blocks on top of a receipt before a mint counts as succeeded", DefaultValueFactory = _ => 0 };
        var add = new Command("add", "Add or replace a chain; checks that every --rpc-url answers with --chain-id. Repeat --minter-key-file/--minter-key-env for several minter wallets")
            { o.Name, o.NameOption, chainId, rpcUrl, o.KeyFile, o.KeyEnv, confirmations, o.LowBalance, o.Treasury.KeyFile, o.Treasury.KeyEnv, o.Treasury.TopUpTo, o.SkipCheck };
        add.WithStore(async (parse, store, ct) =>
        {
            var chainName = o.ChainName(parse, "openmint chain add --name <name> --chain-id <id> --rpc-url <url> ...");
            var urls = CheckUrls(parse.GetValue(rpcUrl)!);
            var id = CheckChainId(parse.GetValue(chainId));
            var conf = CheckConfirmations(parse.GetValue(confirmations));
            var minters = MinterWallets.Add(chainName, [], o.KeyRefs(parse));
            if (!parse.GetValue(o.SkipCheck))
            {
                await CheckChainIdAsync(urls, id, ct).ConfigureAwait(false);
            }
            var existing = await store.GetChainAsync(chainName, ct).ConfigureAwait(false);
            var chain = o.Treasury.Apply(parse, new ChainConfig(chainName, id, urls, null, conf, existing?.CreatedAt ?? DateTimeOffset.UtcNow) { LowBalanceWei = o.LowBalanceWei(parse) }.WithMinters(minters));
            await store.UpsertChainAsync(chain, ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(chain), $"chain {chainName} (chain id {id}) {(existing is null ? "added" : "updated")}; {MintersText(chain)}");
        });
        var list = new Command("list", "List chains").WithStore(async (parse, store, ct) =>
        {
            var chains = await store.ListChainsAsync(ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(chains), chains.Count == 0 ? "no chains; add one with: openmint chain add --name <name> --chain-id <id> --rpc-url <url> --minter-key-file <path>"
                : string.Join('\n', chains.Select(c => $"{c.Name}\tchain id {c.ChainId}\t{string.Join(", ", c.RpcUrls)}\tminters {(c.Minters.Count == 0 ? "-" : string.Join(", ", c.Minters))}\tconfirmations {c.Confirmations}")));
        });
        return new Command("chain", "Chains OpenMint mints on") { add, Update(o), list };
    }

    /// <summary>
    /// <c>chain update</c>: changes only what is given. Minter options add wallets, <c>--remove-minter</c> removes one (by
    /// address or by its key reference); <c>--rpc-url</c> replaces the URL list.
    /// </summary>
    private static Command Update(ChainOptions o)
    {
        var chainId = new Option<long?>("--chain-id") { Description = "New EIP-155 chain id" };
        var rpcUrl = new Option<string[]>("--rpc-url") { Description = "Replaces the JSON-RPC endpoints; repeat for fallbacks" };
        var confirmations = new Option<int?>("--confirmations") { Description = "Blocks on top of a receipt before a mint counts as succeeded" };
        var remove = new Option<string[]>("--remove-minter") { Description = "Remove a minter wallet: its 0x address, or its reference (file:/path, env:VAR); repeatable" };
        var update = new Command("update", "Change a chain: add minter wallets (--minter-key-file/--minter-key-env), remove one (--remove-minter), change URLs, confirmations, --low-balance, the treasury (--treasury-key-file/--treasury-key-env --top-up-to, --no-treasury)")
            { o.Name, o.NameOption, chainId, rpcUrl, o.KeyFile, o.KeyEnv, remove, confirmations, o.LowBalance, o.Treasury.KeyFile, o.Treasury.KeyEnv, o.Treasury.TopUpTo, o.Treasury.None, o.SkipCheck };
        return update.WithStore(async (parse, store, ct) =>
        {
            var chainName = o.ChainName(parse, "openmint chain update --name <name> [--minter-key-file <path>] [--remove-minter <0x address>] ...");
            var chain = await store.GetChainAsync(chainName, ct).ConfigureAwait(false) ?? throw new CliException($"unknown chain '{chainName}'; add it first: openmint chain add --name {chainName} ...");
            var urls = parse.GetValue(rpcUrl) is { Length: > 0 } given ? CheckUrls(given) : chain.RpcUrls;
            var id = parse.GetValue(chainId) is { } newId ? CheckChainId(newId) : chain.ChainId;
            var minters = MinterWallets.Remove(chainName, chain.Minters, parse.GetValue(remove) ?? []);
            minters = MinterWallets.Add(chainName, minters, o.KeyRefs(parse));
            var low = parse.GetResult(o.LowBalance) is null ? chain.LowBalanceWei : o.LowBalanceWei(parse);
            var updated = o.Treasury.Apply(parse, (chain with { ChainId = id, RpcUrls = urls, Confirmations = parse.GetValue(confirmations) is { } conf ? CheckConfirmations(conf) : chain.Confirmations, LowBalanceWei = low })
                .WithMinters(minters));
            if (!parse.GetValue(o.SkipCheck) && (parse.GetValue(rpcUrl) is { Length: > 0 } || parse.GetValue(chainId) is not null))
            {
                await CheckChainIdAsync(urls, id, ct).ConfigureAwait(false);
            }
            await store.UpsertChainAsync(updated, ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(updated), $"chain {chainName} (chain id {id}) updated; {MintersText(updated)}");
        });
    }

    private static string MintersText(ChainConfig chain) => chain.Minters.Count switch
    {
        0 => "minter key: none (cannot mint until one is set)",
        1 => $"minter key: {chain.Minters[0]}",
        var n => $"{n} minter wallets: {string.Join(", ", chain.Minters)}",
    } + (chain.LowBalanceWei is { } low ? $"; low balance below {low} wei" : "") + TreasuryOptions.Text(chain);

    /// <summary>Options <c>chain add</c> and <c>chain update</c> share.</summary>
    private sealed class ChainOptions
    {
        public readonly Argument<string?> Name = new("name") { Description = "Chain name as it appears in API paths, e.g. imtbl-zkevm-testnet (or --name)", Arity = ArgumentArity.ZeroOrOne };
        public readonly Option<string?> NameOption = new("--name") { Description = "Chain name (instead of the positional name)" };
        public readonly Option<bool> SkipCheck = new("--skip-rpc-check") { Description = "Do not ask the RPC for its chain id (offline setup)" };
        public readonly Option<string[]> KeyFile = new("--minter-key-file") { Description = "File holding a minter wallet's private key (hex); only the path is stored; repeat for several wallets" };
        public readonly Option<string[]> KeyEnv = new("--minter-key-env") { Description = "Environment variable holding a minter wallet's private key; only its name is stored; repeatable" };
        public readonly TreasuryOptions Treasury = new();
        public readonly Option<string?> LowBalance = new("--low-balance") { Description = "Balance in wei below which a minter wallet is reported low (warning, metric, notice on pending requests); 'none' clears it" };

        public string ChainName(ParseResult parse, string usage)
        {
            var chainName = (parse.GetValue(NameOption) ?? parse.GetValue(Name) ?? throw new CliException("name the chain: " + usage)).Trim();
            if (chainName.Length == 0 || chainName.Contains('/', StringComparison.Ordinal) || chainName.Any(char.IsWhiteSpace))
            {
                throw new CliException($"chain name '{chainName}' cannot be used in a URL path: use letters, digits and dashes, e.g. imtbl-zkevm-testnet");
            }
            return chainName;
        }

        public IReadOnlyList<string> KeyRefs(ParseResult parse) =>
            [.. (parse.GetValue(KeyFile) ?? []).Select(MinterWallets.FileRef), .. (parse.GetValue(KeyEnv) ?? []).Select(MinterWallets.EnvRef)];

        public string? LowBalanceWei(ParseResult parse)
        {
            var value = parse.GetValue(LowBalance)?.Trim();
            if (value is null || value == "none")
            {
                return null;
            }
            if (!System.Numerics.BigInteger.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var wei) || wei.IsZero)
            {
                throw new CliException($"--low-balance '{value}' must be a positive whole number of wei, e.g. 100000000000000000 (0.1 of the native token), or none");
            }
            return wei.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static IReadOnlyList<string> CheckUrls(IReadOnlyList<string> urls)
    {
        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
            {
                throw new CliException($"--rpc-url '{url}' is not an http(s) URL, e.g. http://127.0.0.1:8545");
            }
        }
        return urls;
    }

    private static long CheckChainId(long id) => id > 0 ? id
        : throw new CliException("--chain-id must be a positive EIP-155 chain id, e.g. 13473 (Immutable zkEVM testnet) or 31337 (Anvil)");

    private static int CheckConfirmations(int conf) => conf >= 0 ? conf : throw new CliException("--confirmations must be 0 or more");

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
