using System.Text;

namespace OpenMint.Chain;

/// <summary>20-byte account addresses: parsing to the canonical lower-case form and EIP-55 checksums.</summary>
public static class EthAddress
{
    public const string Zero = "0x0000000000000000000000000000000000000000";

    /// <summary>
    /// Accepts "0x" + 40 hex digits in any case; the checksum of mixed-case input is not enforced. The one
    /// address check of the API, the CLI and the refresh auth. Input already in lower case is returned as is.
    /// </summary>
    public static bool TryParse(string? s, out string lower)
    {
        lower = "";
        if (s is null || s.Length != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        {
            return false;
        }
        var isLower = s[1] == 'x';
        for (var i = 2; i < 42; i++)
        {
            var ch = s[i];
            if (!char.IsAsciiHexDigit(ch))
            {
                return false;
            }
            isLower &= ch is not (>= 'A' and <= 'F');
        }
        // Most callers already send lower case: keep their string instead of copying it (intake hot path).
        lower = isLower ? s : string.Create(42, s, static (span, v) =>
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

    /// <summary>True for "0x" + 40 hex digits in any case.</summary>
    public static bool IsValid(string? s) => TryParse(s, out _);

    public static string Parse(string s) =>
        TryParse(s, out var lower) ? lower : throw new FormatException($"'{s}' is not an address: expected 0x followed by 40 hex digits.");

    /// <summary>True when the address is all lower case, all upper case, or a correct EIP-55 checksum.</summary>
    public static bool IsValidChecksumOrUniformCase(string s)
    {
        if (!TryParse(s, out var lower))
        {
            return false;
        }
        var body = s[2..];
        if (body == body.ToLowerInvariant() || body == body.ToUpperInvariant())
        {
            return true;
        }
        return string.Equals(ToChecksum(lower), "0x" + body, StringComparison.Ordinal);
    }

    /// <summary>EIP-55 mixed-case checksum encoding.</summary>
    public static string ToChecksum(string address)
    {
        var hex = Parse(address)[2..];
        var hash = Keccak.Hash(Encoding.ASCII.GetBytes(hex));
        var sb = new StringBuilder("0x", 42);
        for (var i = 0; i < 40; i++)
        {
            var c = hex[i];
            var nibble = (i % 2 == 0) ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f;
            sb.Append(c is >= 'a' and <= 'f' && nibble >= 8 ? char.ToUpperInvariant(c) : c);
        }
        return sb.ToString();
    }

    /// <summary>Address of an uncompressed secp256k1 public key: 64 bytes (x‖y) or 65 bytes with the 0x04 prefix.</summary>
    public static string FromPublicKey(byte[] uncompressed)
    {
        ArgumentNullException.ThrowIfNull(uncompressed);
        ReadOnlySpan<byte> xy = uncompressed.Length switch
        {
            64 => uncompressed,
            65 when uncompressed[0] == 0x04 => uncompressed.AsSpan(1),
            _ => throw new ArgumentException("An uncompressed public key is 64 bytes, or 65 starting with 0x04.", nameof(uncompressed)),
        };
        return Hex.Encode(Keccak.Hash(xy).AsSpan(12));
    }

    internal static byte[] ToBytes(string address) => Hex.Decode(Parse(address));
}
