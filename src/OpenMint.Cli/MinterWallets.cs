using OpenMint.Chain;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;

namespace OpenMint.Cli;

/// <summary>One minter wallet of a chain as the CLI sees it: its key reference and, when the key can be read here, its address.</summary>
internal sealed record MinterWallet(string KeyRef, string? Address, string? Problem);

/// <summary>
/// The minter wallets of a chain (<c>chain add|update --minter-key-file/--minter-key-env/--remove-minter</c>): key
/// references only (keys never enter the store), no two of them for the same account.
/// </summary>
internal static class MinterWallets
{
    public static string FileRef(string file) => FileRef(file, "--minter-key-file");

    /// <summary>A key file's reference; errors name <paramref name="option"/> (the minters' or the treasury's).</summary>
    public static string FileRef(string file, string option)
    {
        if (ChainCommands.LooksLikePrivateKey(file))
        {
            throw new CliException($"{option} takes the path of a file holding the key, not the key itself (keys never go into the store)");
        }
        var full = Path.GetFullPath(file);
        if (!File.Exists(full))
        {
            throw new CliException($"{option} {full} does not exist; write the wallet's hex private key into that file (chmod 600) and run again");
        }
        return "file:" + full;
    }

    public static string EnvRef(string env) => EnvRef(env, "--minter-key-env");

    public static string EnvRef(string env, string option)
    {
        if (ChainCommands.LooksLikePrivateKey(env) || env.Length == 0 || !env.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
        {
            throw new CliException($"{option} takes the NAME of an environment variable (e.g. OPENMINT_KEY), not the key itself");
        }
        return "env:" + env;
    }

    /// <summary>Every wallet of the chain with its address (or why it cannot be read in this process).</summary>
    public static IReadOnlyList<MinterWallet> Of(ChainConfig chain) => chain.Minters.Select(r => Resolve(chain.Name, r)).ToList();

    public static MinterWallet Resolve(string chainName, string keyRef)
    {
        try
        {
            return new MinterWallet(keyRef, EthKey.FromHex(MinterKeys.ResolveHex(chainName, keyRef)).Address, null);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            return new MinterWallet(keyRef, null, ex.Message);
        }
    }

    /// <summary>
    /// <paramref name="current"/> plus <paramref name="added"/>: a reference already there is kept once; a file key must
    /// hold a key; a reference whose account is already a wallet of the chain is refused (two writers for one account).
    /// </summary>
    public static IReadOnlyList<string> Add(string chainName, IReadOnlyList<string> current, IReadOnlyList<string> added)
    {
        var result = current.ToList();
        var addresses = current.Select(r => Resolve(chainName, r)).Where(w => w.Address is not null).ToDictionary(w => w.Address!, w => w.KeyRef, StringComparer.OrdinalIgnoreCase);
        foreach (var keyRef in added.Where(r => !result.Contains(r)))
        {
            var wallet = Resolve(chainName, keyRef);
            if (wallet.Address is null && keyRef.StartsWith("file:", StringComparison.Ordinal))
            {
                throw new CliException($"--minter-key-file {keyRef["file:".Length..]}: {wallet.Problem}");
            }
            if (wallet.Address is not null && !addresses.TryAdd(wallet.Address, keyRef))
            {
                throw new CliException($"{keyRef} is the same account ({wallet.Address}) as the chain's wallet {addresses[wallet.Address]}; each wallet needs its own key");
            }
            result.Add(keyRef);
        }
        return result;
    }

    /// <summary><paramref name="current"/> without the wallets named by address (0x...) or reference; naming none of them is an error.</summary>
    public static IReadOnlyList<string> Remove(string chainName, IReadOnlyList<string> current, IReadOnlyList<string> removed)
    {
        var result = current.ToList();
        foreach (var name in removed)
        {
            var match = result.FirstOrDefault(r => r == name || r == "file:" + SafeFullPath(name)
                || (name.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && string.Equals(Resolve(chainName, r).Address, name, StringComparison.OrdinalIgnoreCase)))
                ?? throw new CliException($"--remove-minter {name}: no minter wallet of chain {chainName} has that address or reference; see: openmint signer status --chain {chainName}");
            result.Remove(match);
        }
        return result;
    }

    private static string SafeFullPath(string path)
    {
        try
        {
            return Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return path;
        }
    }
}
