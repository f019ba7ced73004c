using NBitcoin.Secp256k1;
using BigInteger = System.Numerics.BigInteger;

namespace OpenMint.Chain;

/// <summary>secp256k1 public-key recovery (SEC 1 v2, section 4.1.6), by NBitcoin.Secp256k1.</summary>
public static class Secp256k1
{
    /// <summary>The group order n.</summary>
    internal static readonly BigInteger N = ReadUInt256(Convert.FromHexString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141"));

    /// <summary>The 64-byte public key (x ‖ y) that produced <paramref name="sig"/> over <paramref name="hash32"/>.</summary>
    /// <exception cref="ArgumentException">The signature is invalid or no key recovers from it.</exception>
    public static byte[] RecoverPublicKey(ReadOnlySpan<byte> hash32, Signature sig) =>
        TryRecoverPublicKey(hash32, sig) ?? throw new ArgumentException("No public key recovers from this signature.", nameof(sig));

    internal static byte[]? TryRecoverPublicKey(ReadOnlySpan<byte> hash32, Signature sig)
    {
        ArgumentNullException.ThrowIfNull(sig);
        if (hash32.Length != 32 || sig.RecoveryId is < 0 or > 3 || sig.R.Sign <= 0 || sig.S.Sign <= 0 || sig.R >= N || sig.S >= N)
        {
            return null;
        }
        Span<byte> compact = stackalloc byte[64];
        WriteUInt256(sig.R, compact[..32]);
        WriteUInt256(sig.S, compact[32..]);
        if (!SecpRecoverableECDSASignature.TryCreateFromCompact(compact, sig.RecoveryId, out var recoverable)
            || !ECPubKey.TryRecover(Context.Instance, recoverable, hash32, out var publicKey))
        {
            return null;
        }
        return Uncompressed(publicKey);
    }

    /// <summary>x ‖ y, 64 bytes (the 0x04 prefix dropped).</summary>
    internal static byte[] Uncompressed(ECPubKey publicKey)
    {
        Span<byte> encoded = stackalloc byte[65];
        publicKey.WriteToSpan(compressed: false, encoded, out _);
        return encoded[1..].ToArray();
    }

    internal static BigInteger ReadUInt256(ReadOnlySpan<byte> bytes) => new(bytes, isUnsigned: true, isBigEndian: true);

    internal static void WriteUInt256(BigInteger value, Span<byte> destination)
    {
        destination.Clear();
        var length = value.GetByteCount(isUnsigned: true);
        if (length > destination.Length || !value.TryWriteBytes(destination[(destination.Length - length)..], out _, isUnsigned: true, isBigEndian: true))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "The value does not fit.");
        }
    }
}
