using System.Text;

namespace OpenMint.Chain;

/// <summary>20-byte account addresses: parsing to the canonical lower-case form and EIP-55 checksums.</summary>
public static class EthAddress
{
    public const string Zero = "0x0000000000000000000000000000000000000000";

    /// <summary>Accepts "0x" + 40 hex digits in any case; the checksum of mixed-case input is not enforced.</summary>
    public static bool TryParse(string? s, out string lower)
    {
        lower = "";
        if (s is null || s.Length != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        {
            return false;
        }
        for (var i = 2; i < 42; i++)
        {
            if (!char.IsAsciiHexDigit(s[i]))
            {
                return false;
            }
        }
        lower = "0x" + s[2..].ToLowerInvariant();
        return true;
    }

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
