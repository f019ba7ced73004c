using System.Text;

namespace OpenMint.Chain;

/// <summary>EIP-191 version 0x45 ("personal_sign") messages.</summary>
public static class PersonalSign
{
    /// <summary>keccak256("\u0019Ethereum Signed Message:\n" + byte length + message), message as UTF-8.</summary>
    public static byte[] Hash(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var body = Encoding.UTF8.GetBytes(message);
        // The 0x19 byte is written as a byte: C#'s "\x19E" would read three hex digits and produce U+019E.
        var length = Encoding.ASCII.GetBytes(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Keccak.Hash([0x19, .. "Ethereum Signed Message:\n"u8, .. length, .. body]);
    }

    /// <summary>0x + r (64 hex) + s (64 hex) + v (2 hex), v being the recovery id 00 or 01.</summary>
    public static string Sign(EthKey key, string message)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Hex.Encode(key.Sign(Hash(message)).ToBytes65());
    }

    /// <summary>The lower-case signer address, or null for any malformed or unrecoverable signature. Never throws.</summary>
    public static string? Recover(string message, string signatureHex)
    {
        if (message is null || signatureHex is null)
        {
            return null;
        }
        var body = signatureHex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? signatureHex[2..] : signatureHex;
        if (body.Length != 130 || !body.All(char.IsAsciiHexDigit))
        {
            return null;
        }
        var sig = Signature.TryFromBytes65(Convert.FromHexString(body));
        if (sig is null)
        {
            return null;
        }
        try
        {
            var publicKey = Secp256k1.TryRecoverPublicKey(Hash(message), sig);
            return publicKey is null ? null : EthAddress.FromPublicKey(publicKey);
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (ArithmeticException)
        {
            return null;
        }
    }
}
