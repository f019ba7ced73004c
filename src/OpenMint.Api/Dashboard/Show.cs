using System.Globalization;
using System.Numerics;
using OpenMint.Core;

namespace OpenMint.Api.Dashboard;

/// <summary>How the pages write values: instants in UTC to the second, wei in whole units, long hashes shortened.</summary>
internal static class Show
{
    private static readonly BigInteger WeiPerUnit = BigInteger.Pow(10, 18);

    public static string Time(string? wire) => wire is null ? "-" : Time(Core.Time.FromWire(wire));

    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z";

    /// <summary>18-decimal units with 6 decimals (the native coin: IMX on Immutable zkEVM, ETH on Anvil).</summary>
    public static string Units(BigInteger wei)
    {
        var whole = BigInteger.DivRem(wei, WeiPerUnit, out var rest);
        return whole.ToString("N0", CultureInfo.InvariantCulture) + "." + (rest * 1_000_000 / WeiPerUnit).ToString(CultureInfo.InvariantCulture).PadLeft(6, '0');
    }

    /// <summary>A fee in gwei with up to 3 decimals, from the store's decimal wei text.</summary>
    public static string Gwei(string wei) =>
        BigInteger.TryParse(wei, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? ((decimal)(value / 1_000) / 1_000_000m).ToString("0.###", CultureInfo.InvariantCulture) + " gwei"
            : wei;

    /// <summary><c>0x1234abcd…9f8e7d</c> for a hash or an address; the whole value goes in the title.</summary>
    public static string Short(string? value) => value is null ? "-" : value.Length <= 18 ? value : value[..10] + "…" + value[^6..];

    public static string Number(long? value) => value?.ToString("N0", CultureInfo.InvariantCulture) ?? "-";

    public static string StatusClass(string status) => status switch
    {
        "succeeded" or "mined" or "done" or "delivered" => "badge ok",
        "failed" or "abandoned" => "badge bad",
        _ => "badge warn",
    };
}
