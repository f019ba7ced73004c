namespace OpenMint.Chain;

/// <summary>0x-prefixed hex, as JSON-RPC and the API speak it.</summary>
public static class Hex
{
    public static string Encode(ReadOnlySpan<byte> bytes, bool prefix = true) =>
        (prefix ? "0x" : "") + Convert.ToHexStringLower(bytes);

    public static byte[] Decode(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var s = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        if (s.Length % 2 == 1)
        {
            s = "0" + s;
        }
        return Convert.FromHexString(s);
    }
}
