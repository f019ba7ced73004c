using System.Globalization;
using System.Numerics;

namespace OpenMint.Chain;

/// <summary>
/// uint256 values as they travel (API bodies, paths) and are stored: canonical decimal strings, no sign, no
/// leading zeros. The one parser of them; token ids and amounts of the Minting API and the refresh API use it.
/// </summary>
public static class Uint256
{
    public const string MaxDecimal = "115792089237316195423570985008687907853269984665640564039457584007913129639935";

    public static readonly BigInteger Max = (BigInteger.One << 256) - 1;

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

    /// <summary>True when <paramref name="value"/> is a uint256 decimal string (see <see cref="TryCanonicalize"/>).</summary>
    public static bool IsValid(string? value) => TryCanonicalize(value, out _);

    public static BigInteger ToBigInteger(string canonical) => BigInteger.Parse(canonical, NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>Compares two canonical strings numerically without parsing them.</summary>
    public static int Compare(string a, string b) =>
        a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
}
