using System.CommandLine;
using System.Globalization;
using System.Numerics;
using OpenMint.Core.Tenancy;

namespace OpenMint.Cli;

/// <summary>
/// <c>chain add|update --treasury-key-file|--treasury-key-env --top-up-to</c> (and <c>--no-treasury</c> on update): the
/// wallet that tops the chain's minter wallets up (docs/transactions.md, "Treasury top-ups"). Only where its key lives is
/// stored, as for the minters. A treasury needs the chain's <c>--low-balance</c> (below it a wallet is topped up) and a
/// <c>--top-up-to</c> above it.
/// </summary>
internal sealed class TreasuryOptions
{
    private const string Example = "e.g. --low-balance 100000000000000000 --top-up-to 500000000000000000";

    public readonly Option<string?> KeyFile = new("--treasury-key-file") { Description = "File holding the treasury wallet's private key (hex), which tops up minter wallets below --low-balance to --top-up-to; only the path is stored" };
    public readonly Option<string?> KeyEnv = new("--treasury-key-env") { Description = "Environment variable holding the treasury wallet's private key; only its name is stored" };
    public readonly Option<string?> TopUpTo = new("--top-up-to") { Description = "Balance in wei a treasury top-up brings a minter wallet to; above --low-balance" };
    public readonly Option<bool> None = new("--no-treasury") { Description = "Remove the chain's treasury (top-ups stop)" };

    /// <summary><paramref name="chain"/> with the treasury options of <paramref name="parse"/> applied and checked.</summary>
    public ChainConfig Apply(ParseResult parse, ChainConfig chain)
    {
        var file = parse.GetValue(KeyFile);
        var env = parse.GetValue(KeyEnv);
        var remove = parse.GetResult(None) is not null && parse.GetValue(None);
        if (file is not null && env is not null)
        {
            throw new CliException("give the treasury's key as --treasury-key-file or --treasury-key-env, not both");
        }
        if (remove && (file is not null || env is not null || parse.GetValue(TopUpTo) is not null))
        {
            throw new CliException("--no-treasury removes the treasury: do not give --treasury-key-file, --treasury-key-env or --top-up-to with it");
        }
        if (remove)
        {
            return chain with { TreasuryKeyRef = null, TopUpToWei = null };
        }
        var keyRef = file is not null ? MinterWallets.FileRef(file, "--treasury-key-file")
            : env is not null ? MinterWallets.EnvRef(env, "--treasury-key-env") : chain.TreasuryKeyRef;
        var topUpTo = parse.GetValue(TopUpTo) is { } given ? Wei("--top-up-to", given) : chain.TopUpToWei;
        return Check(chain with { TreasuryKeyRef = keyRef, TopUpToWei = topUpTo });
    }

    private static ChainConfig Check(ChainConfig chain)
    {
        if (chain.TreasuryKeyRef is null)
        {
            return chain.TopUpToWei is null ? chain
                : throw new CliException("--top-up-to needs a treasury to send the top-ups: add --treasury-key-file <path> or --treasury-key-env <VAR>");
        }
        if (chain.TopUpToWei is null)
        {
            throw new CliException($"a treasury needs --top-up-to <wei>: the balance a top-up brings a minter wallet to ({Example})");
        }
        if (chain.LowBalanceWei is null)
        {
            throw new CliException($"a treasury needs the chain's --low-balance <wei>: a minter wallet is topped up when its balance falls below it ({Example}); to drop the threshold remove the treasury first with --no-treasury");
        }
        var low = BigInteger.Parse(chain.LowBalanceWei, CultureInfo.InvariantCulture);
        if (BigInteger.Parse(chain.TopUpToWei, CultureInfo.InvariantCulture) <= low)
        {
            throw new CliException($"--top-up-to {chain.TopUpToWei} must be above the chain's --low-balance {chain.LowBalanceWei} (a top-up brings a wallet from below the low balance up to it)");
        }
        var treasury = MinterWallets.Resolve(chain.Name, chain.TreasuryKeyRef);
        if (treasury.Address is null && chain.TreasuryKeyRef.StartsWith("file:", StringComparison.Ordinal))
        {
            throw new CliException($"--treasury-key-file {chain.TreasuryKeyRef["file:".Length..]}: {treasury.Problem}");
        }
        if (treasury.Address is not null && MinterWallets.Of(chain).FirstOrDefault(w => string.Equals(w.Address, treasury.Address, StringComparison.OrdinalIgnoreCase)) is { } same)
        {
            throw new CliException($"the treasury {treasury.Address} is the same account as the minter wallet {same.KeyRef}; the treasury needs a key of its own");
        }
        return chain;
    }

    private static string Wei(string option, string value)
    {
        value = value.Trim();
        if (!BigInteger.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var wei) || wei.IsZero)
        {
            throw new CliException($"{option} '{value}' must be a positive whole number of wei, {Example}");
        }
        return wei.ToString(CultureInfo.InvariantCulture);
    }

    public static string Text(ChainConfig chain) => chain.TreasuryKeyRef is { } keyRef
        ? $"; treasury {keyRef} tops wallets below {chain.LowBalanceWei} wei up to {chain.TopUpToWei} wei" : "";
}
