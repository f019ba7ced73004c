using System.Numerics;

namespace OpenMint.Chain;

/// <summary>A signed transaction ready for eth_sendRawTransaction.</summary>
public sealed record SignedTransaction(byte[] Raw, string Hash, long Nonce)
{
    internal static SignedTransaction From(byte[] raw, long nonce) => new(raw, Hex.Encode(Keccak.Hash(raw)), nonce);
}

/// <summary>EIP-1559 (type 2) transaction with an empty access list. <see cref="To"/> null deploys a contract.</summary>
public sealed record Eip1559Transaction(long ChainId, long Nonce, BigInteger MaxPriorityFeePerGas, BigInteger MaxFeePerGas,
    long GasLimit, string? To, BigInteger Value, byte[] Data)
{
    private const byte TypeByte = 0x02;

    /// <summary>keccak256(0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList])).</summary>
    public byte[] SigningHash() => Keccak.Hash([TypeByte, .. Rlp.EncodeList(Fields())]);

    public SignedTransaction Sign(EthKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var sig = key.Sign(SigningHash());
        byte[][] fields = [.. Fields(), Rlp.EncodeInteger(sig.RecoveryId), Rlp.EncodeInteger(sig.R), Rlp.EncodeInteger(sig.S)];
        return SignedTransaction.From([TypeByte, .. Rlp.EncodeList(fields)], Nonce);
    }

    private byte[][] Fields() =>
    [
        Rlp.EncodeInteger(ChainId),
        Rlp.EncodeInteger(Nonce),
        Rlp.EncodeInteger(MaxPriorityFeePerGas),
        Rlp.EncodeInteger(MaxFeePerGas),
        Rlp.EncodeInteger(GasLimit),
        TransactionFields.To(To),
        Rlp.EncodeInteger(Value),
        Rlp.EncodeBytes(Data ?? []),
        Rlp.EncodeList(),
    ];
}

/// <summary>Legacy (type 0) transaction, replay-protected by EIP-155 when <see cref="ChainId"/> is set.</summary>
public sealed record LegacyTransaction(long? ChainId, long Nonce, BigInteger GasPrice, long GasLimit, string? To, BigInteger Value, byte[] Data)
{
    /// <summary>keccak256(rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0])), or the six-field form without a chain id.</summary>
    public byte[] SigningHash()
    {
        var fields = Fields();
        return ChainId is { } chainId
            ? Keccak.Hash(Rlp.EncodeList([.. fields, Rlp.EncodeInteger(chainId), Rlp.EncodeInteger(0), Rlp.EncodeInteger(0)]))
            : Keccak.Hash(Rlp.EncodeList(fields));
    }

    public SignedTransaction Sign(EthKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var sig = key.Sign(SigningHash());
        // EIP-155: v = recovery id + chainId * 2 + 35; before it, 27 or 28.
        var v = ChainId is { } chainId ? new BigInteger(chainId) * 2 + 35 + sig.RecoveryId : 27 + sig.RecoveryId;
        byte[][] fields = [.. Fields(), Rlp.EncodeInteger(v), Rlp.EncodeInteger(sig.R), Rlp.EncodeInteger(sig.S)];
        return SignedTransaction.From(Rlp.EncodeList(fields), Nonce);
    }

    private byte[][] Fields() =>
    [
        Rlp.EncodeInteger(Nonce),
        Rlp.EncodeInteger(GasPrice),
        Rlp.EncodeInteger(GasLimit),
        TransactionFields.To(To),
        Rlp.EncodeInteger(Value),
        Rlp.EncodeBytes(Data ?? []),
    ];
}

/// <summary>Reads back the sender and fields of signed raw transactions (type 0 and type 2).</summary>
internal static class TransactionDecoder
{
    /// <summary>The lower-case sender address of a signed raw transaction.</summary>
    /// <exception cref="FormatException">Not a signed type-0 or type-2 transaction.</exception>
    public static string RecoverSender(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty)
        {
            throw new FormatException("Empty transaction.");
        }
        if (raw[0] == 0x02)
        {
            var item = Rlp.Decode(raw[1..]);
            if (!item.IsList || item.Items.Count != 12)
            {
                throw new FormatException("A type-2 transaction has 12 fields.");
            }
            var unsigned = Rlp.EncodeList(item.Items.Take(9).Select(Reencode).ToArray());
            var hash = Keccak.Hash([0x02, .. unsigned]);
            var parity = item.Items[9].ToBigInteger();
            if (parity > 1)
            {
                throw new FormatException("y parity must be 0 or 1.");
            }
            return Recover(hash, item.Items[10], item.Items[11], (int)parity);
        }
        if (raw[0] >= 0xc0)
        {
            var item = Rlp.Decode(raw);
            if (!item.IsList || item.Items.Count != 9)
            {
                throw new FormatException("A legacy transaction has 9 fields.");
            }
            var v = item.Items[6].ToBigInteger();
            var fields = item.Items.Take(6).Select(Reencode).ToList();
            int recoveryId;
            if (v == 27 || v == 28)
            {
                recoveryId = (int)(v - 27);
            }
            else if (v >= 35)
            {
                var chainId = (v - 35) / 2;
                recoveryId = (int)((v - 35) % 2);
                fields.AddRange([Rlp.EncodeInteger(chainId), Rlp.EncodeInteger(0), Rlp.EncodeInteger(0)]);
            }
            else
            {
                throw new FormatException($"Invalid v {v}.");
            }
            return Recover(Keccak.Hash(Rlp.EncodeList([.. fields])), item.Items[7], item.Items[8], recoveryId);
        }
        throw new FormatException($"Unsupported transaction type 0x{raw[0]:x2}.");
    }

    private static string Recover(byte[] hash, RlpItem r, RlpItem s, int recoveryId)
    {
        var publicKey = Secp256k1.TryRecoverPublicKey(hash, new Signature(r.ToBigInteger(), s.ToBigInteger(), recoveryId))
            ?? throw new FormatException("The signature does not recover.");
        return EthAddress.FromPublicKey(publicKey);
    }

    private static byte[] Reencode(RlpItem item) =>
        item.IsList ? Rlp.EncodeList(item.Items.Select(Reencode).ToArray()) : Rlp.EncodeBytes(item.Bytes);
}

internal static class TransactionFields
{
    public static byte[] To(string? to) => to is null ? Rlp.EncodeBytes([]) : Rlp.EncodeBytes(EthAddress.ToBytes(to));
}
