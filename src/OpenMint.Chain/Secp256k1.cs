using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Multiplier;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BigInteger = System.Numerics.BigInteger;

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

/// <summary>A secp256k1 private key with its public key and address.</summary>
public sealed class EthKey
{
    private readonly BcBigInteger _d;

    private EthKey(byte[] privateKey)
    {
        _d = new BcBigInteger(1, privateKey);
        if (_d.SignValue <= 0 || _d.CompareTo(Secp256k1.Curve.N) >= 0)
        {
            throw new ArgumentException("A private key must be between 1 and n-1 of secp256k1.", nameof(privateKey));
        }
        PrivateKey = privateKey;
        PublicKey = Secp256k1.PublicKeyOf(_d);
        Address = EthAddress.FromPublicKey(PublicKey);
    }

    /// <summary>32 bytes, big-endian.</summary>
    public byte[] PrivateKey { get; }

    /// <summary>Uncompressed public key without the 0x04 prefix: x ‖ y, 64 bytes.</summary>
    public byte[] PublicKey { get; }

    /// <summary>Lower-case 0x address.</summary>
    public string Address { get; }

    /// <summary>Parses 64 hex digits, with or without 0x.</summary>
    public static EthKey FromHex(string privateKeyHex)
    {
        ArgumentNullException.ThrowIfNull(privateKeyHex);
        var body = privateKeyHex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? privateKeyHex[2..] : privateKeyHex;
        if (body.Length != 64 || !body.All(char.IsAsciiHexDigit))
        {
            throw new FormatException("A private key is 64 hex digits (32 bytes), optionally prefixed with 0x.");
        }
        return new EthKey(Convert.FromHexString(body));
    }

    public static EthKey FromBytes(ReadOnlySpan<byte> privateKey) =>
        privateKey.Length == 32
            ? new EthKey(privateKey.ToArray())
            : throw new ArgumentException("A private key is 32 bytes.", nameof(privateKey));

    public static EthKey Random()
    {
        while (true)
        {
            var bytes = RandomNumberGenerator.GetBytes(32);
            var d = new BcBigInteger(1, bytes);
            // Rejection sampling: the chance of landing outside [1, n-1] is about 2^-128.
            if (d.SignValue > 0 && d.CompareTo(Secp256k1.Curve.N) < 0)
            {
                return new EthKey(bytes);
            }
        }
    }

    /// <summary>Signs a 32-byte hash with an RFC 6979 deterministic nonce; s is normalised to the low half (EIP-2).</summary>
    public Signature Sign(ReadOnlySpan<byte> hash32)
    {
        if (hash32.Length != 32)
        {
            throw new ArgumentException("Sign takes a 32-byte hash.", nameof(hash32));
        }
        // ECDSA by hand rather than ECDsaSigner: we need R itself to read the recovery id (y parity) instead of
        // trying both ids with two public-key recoveries, which cost more than the signature.
        var n = Secp256k1.Curve.N;
        var e = new BcBigInteger(1, hash32.ToArray());
        var kCalculator = new HMacDsaKCalculator(new Sha256Digest());
        kCalculator.Init(n, _d, hash32.ToArray());
        while (true)
        {
            var k = kCalculator.NextK();
            var point = Secp256k1.MultiplyG(k);
            var x = point.AffineXCoord.ToBigInteger();
            var r = x.Mod(n);
            if (r.SignValue == 0)
            {
                continue;
            }
            var s = k.ModInverse(n).Multiply(e.Add(_d.Multiply(r))).Mod(n);
            if (s.SignValue == 0)
            {
                continue;
            }
            var recoveryId = (point.AffineYCoord.TestBitZero() ? 1 : 0) | (x.CompareTo(n) >= 0 ? 2 : 0);
            if (s.CompareTo(Secp256k1.HalfN) > 0)
            {
                // (r, n - s) is the same signature with R's y negated, so the parity bit flips (EIP-2 low-s).
                s = n.Subtract(s);
                recoveryId ^= 1;
            }
            if (recoveryId > 1)
            {
                // R.x >= n happens with probability ~2^-128; Ethereum's v cannot express it, so take the next k.
                continue;
            }
            return new Signature(Secp256k1.ToBig(r), Secp256k1.ToBig(s), recoveryId);
        }
    }

    public override string ToString() => $"EthKey({Address})";
}

/// <summary>secp256k1 public-key recovery (SEC 1 v2, section 4.1.6).</summary>
public static class Secp256k1
{
    internal static readonly ECDomainParameters Curve = CreateDomain();
    internal static readonly BcBigInteger HalfN = Curve.N.ShiftRight(1);
    internal static readonly BigInteger N = ToBig(Curve.N);

    private static ECDomainParameters CreateDomain()
    {
        // CustomNamedCurves carries the same SEC 2 parameters as SecNamedCurves with BouncyCastle's specialised field
        // arithmetic and GLV endomorphism for secp256k1: several times faster, same results (tested on published vectors).
        var p = CustomNamedCurves.GetByName("secp256k1");
        return new ECDomainParameters(p.Curve, p.G, p.N, p.H);
    }

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
        var n = Curve.N;
        var r = ToBc(sig.R);
        var s = ToBc(sig.S);
        var x = r.Add(BcBigInteger.ValueOf(sig.RecoveryId / 2).Multiply(n));
        var curve = Curve.Curve;
        if (x.CompareTo(curve.Field.Characteristic) >= 0)
        {
            return null;
        }
        ECPoint R;
        try
        {
            var encoded = new byte[33];
            encoded[0] = (byte)(0x02 + (sig.RecoveryId & 1));
            WriteBc(x, encoded.AsSpan(1));
            R = curve.DecodePoint(encoded);
        }
        catch (ArgumentException)
        {
            // x is not on the curve.
            return null;
        }
        var e = new BcBigInteger(1, hash32.ToArray());
        var rInv = r.ModInverse(n);
        var u1 = e.Negate().Mod(n).Multiply(rInv).Mod(n);
        var u2 = s.Multiply(rInv).Mod(n);
        var q = ECAlgorithms.SumOfTwoMultiplies(Curve.G, u1, R, u2).Normalize();
        if (q.IsInfinity)
        {
            return null;
        }
        return q.GetEncoded(false)[1..];
    }

    internal static byte[] PublicKeyOf(BcBigInteger d) => MultiplyG(d).GetEncoded(false)[1..];

    // Fixed-point comb: precomputes multiples of G once (cached on the point) for fast k·G.
    private static readonly FixedPointCombMultiplier GMultiplier = new();

    internal static ECPoint MultiplyG(BcBigInteger k) => GMultiplier.Multiply(Curve.G, k).Normalize();

    internal static BigInteger ToBig(BcBigInteger v) => new(v.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true);

    internal static BcBigInteger ToBc(BigInteger v) => new(1, v.ToByteArray(isUnsigned: true, isBigEndian: true));

    internal static BigInteger ReadUInt256(ReadOnlySpan<byte> bytes) => new(bytes, isUnsigned: true, isBigEndian: true);

    internal static void WriteUInt256(BigInteger value, Span<byte> destination)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (bytes.Length > destination.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "The value does not fit.");
        }
        destination.Clear();
        bytes.CopyTo(destination[(destination.Length - bytes.Length)..]);
    }

    private static void WriteBc(BcBigInteger value, Span<byte> destination) => WriteUInt256(ToBig(value), destination);
}
