using System.Numerics;

namespace OpenMint.Core.Minting;

/// <summary>uint256 values as they travel and are stored: canonical decimal strings (no sign, no leading zeros).</summary>
public static class Uint256
{
    public const string MaxDecimal = "115792089237316195423570985008687907853269984665640564039457584007913129639935";

    /// <summary>Accepts ASCII digits only, at most 2^256-1; strips leading zeros ("007" -> "7", "000" -> "0").</summary>
    public static bool TryCanonicalize(string? value, out string canonical)
    {
        canonical = "";
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }
        foreach (var ch in value)
        {
            if (ch is < '0' or > '9')
            {
                return false;
            }
        }
        var trimmed = value.TrimStart('0');
        if (trimmed.Length == 0)
        {
            canonical = "0";
            return true;
        }
        if (trimmed.Length > MaxDecimal.Length
            || (trimmed.Length == MaxDecimal.Length && string.CompareOrdinal(trimmed, MaxDecimal) > 0))
        {
            return false;
        }
        canonical = trimmed;
        return true;
    }

    public static BigInteger ToBigInteger(string canonical) => BigInteger.Parse(canonical, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>0x + 40 hex addresses, accepted in any case and kept lower-case.</summary>
public static class Address
{
    public static bool TryNormalize(string? value, out string lower)
    {
        lower = "";
        if (value is null || value.Length != 42 || value[0] != '0' || (value[1] != 'x' && value[1] != 'X'))
        {
            return false;
        }
        var isLower = value[1] == 'x';
        for (var i = 2; i < 42; i++)
        {
            var ch = value[i];
            if (!char.IsAsciiHexDigit(ch))
            {
                return false;
            }
            isLower &= ch is not (>= 'A' and <= 'F');
        }
        // Most callers already send lower case: keep their string instead of copying it.
        lower = isLower ? value : string.Create(42, value, static (span, v) =>
        {
            span[0] = '0';
            span[1] = 'x';
            for (var i = 2; i < 42; i++)
            {
                span[i] = char.ToLowerInvariant(v[i]);
            }
        });
        return true;
    }
}
