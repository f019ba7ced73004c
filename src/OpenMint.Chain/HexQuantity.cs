using System.Globalization;
using System.Numerics;

namespace OpenMint.Chain;

/// <summary>JSON-RPC quantities: 0x-prefixed, no leading zeros, "0x0" for zero.</summary>
public static class HexQuantity
{
    public static BigInteger Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (!hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || hex.Length == 2)
        {
            throw new FormatException($"'{hex}' is not a 0x hex quantity.");
        }
        // The leading 0 keeps BigInteger.Parse from reading the top bit as a sign.
        return BigInteger.TryParse("0" + hex.AsSpan(2).ToString(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"'{hex}' is not a 0x hex quantity.");
    }

    public static long ParseLong(string hex)
    {
        var v = Parse(hex);
        return v <= long.MaxValue ? (long)v : throw new FormatException($"'{hex}' does not fit in a long.");
    }

    public static string Encode(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "Quantities are not negative.");
        }
        if (value.IsZero)
        {
            return "0x0";
        }
        return "0x" + Convert.ToHexStringLower(value.ToByteArray(isUnsigned: true, isBigEndian: true)).TrimStart('0');
    }
}
