namespace OpenMint.Core.Pipeline;

/// <summary>Reads the minter's private key from where <c>chain.minter_key_ref</c> points: <c>file:/path</c> or <c>env:VAR</c>.</summary>
public static class MinterKeys
{
    /// <summary>Returns the key as hex (0x optional). Errors name the chain setting that fixes them.</summary>
    public static string ResolveHex(string chainName, string? keyRef)
    {
        if (string.IsNullOrWhiteSpace(keyRef))
        {
            throw new InvalidOperationException($"chain '{chainName}' has no minter key: set its minter_key_ref to file:/path/to/key or env:VARIABLE");
        }
        string value;
        if (keyRef.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = keyRef["file:".Length..];
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"chain '{chainName}': minter key file '{path}' (minter_key_ref) does not exist");
            }
            value = File.ReadAllText(path);
        }
        else if (keyRef.StartsWith("env:", StringComparison.Ordinal))
        {
            var name = keyRef["env:".Length..];
            value = Environment.GetEnvironmentVariable(name)
                ?? throw new InvalidOperationException($"chain '{chainName}': environment variable '{name}' (minter_key_ref) is not set");
        }
        else
        {
            throw new InvalidOperationException($"chain '{chainName}': minter_key_ref must be file:/path or env:VARIABLE, not '{keyRef.Split(':')[0]}:...'");
        }
        value = value.Trim();
        var hex = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value[2..] : value;
        if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
        {
            throw new InvalidOperationException($"chain '{chainName}': the minter key at {keyRef} is not 32 bytes of hex");
        }
        return "0x" + hex.ToLowerInvariant();
    }
}
