using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace OpenMint.Chain;

/// <summary>ABI encoding: a head of static values and offsets, then a tail of dynamic values.</summary>
internal static class AbiEncoder
{
    internal static void EncodeSequence(IReadOnlyList<AbiType> types, IReadOnlyList<object?> values, List<byte> output)
    {
        var headSize = types.Sum(t => t.HeadSize);
        var head = new List<byte>(headSize);
        var tail = new List<byte>();
        for (var i = 0; i < types.Count; i++)
        {
            if (types[i].IsDynamic)
            {
                head.AddRange(Abi.Word(new BigInteger(headSize + tail.Count)));
                EncodeValue(types[i], values[i], tail);
            }
            else
            {
                EncodeValue(types[i], values[i], head);
            }
        }
        output.AddRange(head);
        output.AddRange(tail);
    }

    private static void EncodeValue(AbiType type, object? value, List<byte> output)
    {
        switch (type.Kind)
        {
            case AbiKind.Address:
                output.AddRange(new byte[12]);
                output.AddRange(AddressBytes(value));
                break;
            case AbiKind.Bool:
                output.AddRange(Abi.Word(value is bool b ? (b ? BigInteger.One : BigInteger.Zero) : throw Mismatch(type, value)));
                break;
            case AbiKind.UInt or AbiKind.Int:
                output.AddRange(Abi.Word(IntegerWord(type, value)));
                break;
            case AbiKind.FixedBytes:
            {
                var bytes = ToBytes(value, type);
                if (bytes.Length != type.Size)
                {
                    throw new ArgumentException($"{type.Canonical} takes exactly {type.Size} bytes, {bytes.Length} given.", nameof(value));
                }
                AppendRightPadded(bytes, output);
                break;
            }
            case AbiKind.Bytes:
            {
                var bytes = ToBytes(value, type);
                output.AddRange(Abi.Word(new BigInteger(bytes.Length)));
                AppendRightPadded(bytes, output);
                break;
            }
            case AbiKind.String:
            {
                var bytes = Encoding.UTF8.GetBytes(value as string ?? throw Mismatch(type, value));
                output.AddRange(Abi.Word(new BigInteger(bytes.Length)));
                AppendRightPadded(bytes, output);
                break;
            }
            case AbiKind.Array or AbiKind.Tuple:
                EncodeComposite(type, value, output);
                break;
        }
    }

    /// <summary>The 256-bit word of an intN/uintN value: range-checked, negatives in two's complement.</summary>
    private static BigInteger IntegerWord(AbiType type, object? value)
    {
        var v = ToInteger(value, type);
        if (type.Kind == AbiKind.UInt)
        {
            return v.Sign >= 0 && v < BigInteger.One << type.Size
                ? v
                : throw new ArgumentOutOfRangeException(nameof(value), $"{v} does not fit in {type.Canonical}.");
        }
        var limit = BigInteger.One << (type.Size - 1);
        if (v < -limit || v >= limit)
        {
            throw new ArgumentOutOfRangeException(nameof(value), $"{v} does not fit in {type.Canonical}.");
        }
        // Two's complement over 256 bits: sign-extend negatives with 0xff.
        return v.Sign < 0 ? (BigInteger.One << 256) + v : v;
    }

    private static void EncodeComposite(AbiType type, object? value, List<byte> output)
    {
        if (type.Kind == AbiKind.Array)
        {
            var items = ToList(value, type);
            if (type.Size >= 0 && items.Count != type.Size)
            {
                throw new ArgumentException($"{type.Canonical} takes {type.Size} items, {items.Count} given.", nameof(value));
            }
            if (type.Size < 0)
            {
                output.AddRange(Abi.Word(new BigInteger(items.Count)));
            }
            EncodeSequence(Enumerable.Repeat(type.Element!, items.Count).ToArray(), items, output);
            return;
        }
        var members = value is ITuple t and not IEnumerable
            ? Enumerable.Range(0, t.Length).Select(i => t[i]).ToList()
            : ToList(value, type);
        if (members.Count != type.Components.Count)
        {
            throw new ArgumentException($"{type.Canonical} takes {type.Components.Count} members, {members.Count} given.", nameof(value));
        }
        EncodeSequence(type.Components, members, output);
    }

    private static byte[] AddressBytes(object? value) => value switch
    {
        string s => EthAddress.ToBytes(s),
        byte[] { Length: 20 } b => b,
        _ => throw new ArgumentException($"An address is a 0x string or 20 bytes, not {value?.GetType().Name ?? "null"}.", nameof(value)),
    };

    private static BigInteger ToInteger(object? value, AbiType type) => value switch
    {
        BigInteger v => v,
        int v => v,
        long v => v,
        uint v => v,
        ulong v => v,
        short v => v,
        ushort v => v,
        byte v => v,
        sbyte v => v,
        UInt128 v => (BigInteger)v,
        Int128 v => (BigInteger)v,
        string s when s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) => HexQuantity.Parse(s),
        string s when BigInteger.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) => v,
        _ => throw Mismatch(type, value),
    };

    private static byte[] ToBytes(object? value, AbiType type) => value switch
    {
        byte[] b => b,
        ReadOnlyMemory<byte> m => m.ToArray(),
        string s when s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) => Hex.Decode(s),
        _ => throw Mismatch(type, value),
    };

    private static List<object?> ToList(object? value, AbiType type)
    {
        if (value is string || value is not IEnumerable e)
        {
            throw Mismatch(type, value);
        }
        var list = new List<object?>();
        foreach (var item in e)
        {
            list.Add(item);
        }
        return list;
    }

    private static ArgumentException Mismatch(AbiType type, object? value) =>
        new($"Cannot encode {value?.GetType().Name ?? "null"} as {type.Canonical}.", nameof(value));

    private static void AppendRightPadded(byte[] bytes, List<byte> output)
    {
        output.AddRange(bytes);
        var pad = (32 - (bytes.Length % 32)) % 32;
        output.AddRange(new byte[pad]);
    }
}
