using System.Security.Cryptography;
using NBitcoin.Secp256k1;

namespace OpenMint.Chain;

/// <summary>
/// A secp256k1 private key with its public key and address. Signing runs in NBitcoin.Secp256k1, a C# port of
/// libsecp256k1: constant-time scalar multiplication, RFC 6979 nonces, s normalised to the low half.
/// </summary>
public sealed class EthKey
{
    private readonly ECPrivKey _key;

    private EthKey(byte[] privateKey)
    {
        if (!Context.Instance.TryCreateECPrivKey(privateKey, out var key))
        {
            throw new ArgumentException("A private key must be between 1 and n-1 of secp256k1.", nameof(privateKey));
        }
        _key = key;
        PrivateKey = privateKey;
        PublicKey = Secp256k1.Uncompressed(_key.CreatePubKey());
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
            // Rejection sampling: the chance of landing outside [1, n-1] is about 2^-128.
            if (Context.Instance.TryCreateECPrivKey(bytes, out _))
            {
                return new EthKey(bytes);
            }
        }
    }

    /// <summary>Signs a 32-byte hash with an RFC 6979 deterministic nonce; s is in the low half (EIP-2).</summary>
    public Signature Sign(ReadOnlySpan<byte> hash32)
    {
        if (hash32.Length != 32)
        {
            throw new ArgumentException("Sign takes a 32-byte hash.", nameof(hash32));
        }
        if (!_key.TrySignRecoverable(hash32, out var signature))
        {
            throw new InvalidOperationException("secp256k1 signing failed.");
        }
        Span<byte> compact = stackalloc byte[64];
        signature!.WriteToSpanCompact(compact, out var recoveryId);
        if (recoveryId > 1)
        {
            // R.x >= n (probability ~2^-128, no such hash is known): Ethereum's v cannot express it, and the
            // library's nonce for this key and hash is fixed, so it cannot be retried with the next one here.
            throw new InvalidOperationException("The signature's R.x overflows the group order; Ethereum cannot express it.");
        }
        return new Signature(Secp256k1.ReadUInt256(compact[..32]), Secp256k1.ReadUInt256(compact[32..]), recoveryId);
    }

    public override string ToString() => $"EthKey({Address})";
}
