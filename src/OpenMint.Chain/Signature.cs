using System.Numerics;

namespace OpenMint.Chain;

/// <summary>A recoverable secp256k1 signature; <see cref="RecoveryId"/> is 0 or 1 (the parity of R's y).</summary>
public sealed record Signature(BigInteger R, BigInteger S, int RecoveryId)
{
    /// <summary>r (32) ‖ s (32) ‖ v (1), v = recovery id, or recovery id + 27 when <paramref name="vAs27"/>.</summary>
    public byte[] ToBytes65(bool vAs27 = false)
    {
        var bytes = new byte[65];
        Secp256k1.WriteUInt256(R, bytes.AsSpan(0, 32));
        Secp256k1.WriteUInt256(S, bytes.AsSpan(32, 32));
        bytes[64] = (byte)(RecoveryId + (vAs27 ? 27 : 0));
        return bytes;
    }

    /// <summary>Parses r ‖ s ‖ v with v in {0, 1, 27, 28}; null for any other shape.</summary>
    public static Signature? TryFromBytes65(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 65)
        {
            return null;
        }
        int recoveryId = bytes[64] switch
        {
            0 or 1 => bytes[64],
            27 or 28 => bytes[64] - 27,
            _ => -1,
        };
        if (recoveryId < 0)
        {
            return null;
        }
        return new Signature(Secp256k1.ReadUInt256(bytes[..32]), Secp256k1.ReadUInt256(bytes[32..64]), recoveryId);
    }
}
