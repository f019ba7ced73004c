using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace OpenMint.Chain;

/// <summary>
/// Solidity contract ABI encoding. Values: address → string, uintN/intN → BigInteger (any .NET integer is accepted
/// when encoding), bool → bool, bytesN/bytes → byte[] (or a 0x hex string when encoding), string → string,
/// arrays → any IEnumerable (decoded as object?[]), tuples → object?[] or a C# tuple (decoded as object?[]).
/// </summary>
public static class Abi
{
    /// <summary>First 4 bytes of keccak256 of the canonical signature, e.g. "transfer(address,uint256)".</summary>
    public static byte[] Selector(string signature) => Keccak.Hash(Canonicalise(signature)).AsSpan(0, 4).ToArray();

    /// <summary>keccak256 of the canonical event signature: topic 0 of a non-anonymous event.</summary>
    public static byte[] EventTopic(string signature) => Keccak.Hash(Canonicalise(signature));

    public static byte[] Encode(IReadOnlyList<string> types, IReadOnlyList<object?> values)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(values);
        if (types.Count != values.Count)
        {
            throw new ArgumentException($"{types.Count} types but {values.Count} values.", nameof(values));
        }
        var tuple = AbiType.Tuple(types.Select(AbiType.Parse).ToArray());
        var output = new List<byte>();
        EncodeSequence(tuple.Components, values, output);
        return [.. output];
    }

    /// <exception cref="FormatException">The data is too short, has an offset out of range, or a value out of its type's range.</exception>
    public static object?[] Decode(IReadOnlyList<string> types, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(types);
        var components = types.Select(AbiType.Parse).ToArray();
        return DecodeSequence(components, data, 0);
    }

    /// <summary>Selector of <paramref name="signature"/> followed by the encoded arguments.</summary>
    public static byte[] EncodeCall(string signature, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var (name, parameters) = ParseSignature(signature);
        var canonical = name + AbiType.Tuple(parameters).Canonical;
        var output = new List<byte>(Keccak.Hash(canonical).AsSpan(0, 4).ToArray());
        if (parameters.Count != args.Length)
        {
            throw new ArgumentException($"{canonical} takes {parameters.Count} arguments, {args.Length} given.", nameof(args));
        }
        EncodeSequence(parameters, args, output);
        return [.. output];
    }

    /// <summary>Decodes the arguments of a call or error whose selector is already stripped, using the types of <paramref name="signature"/>.</summary>
    internal static object?[] DecodeArguments(string signature, ReadOnlySpan<byte> data)
    {
        var (_, parameters) = ParseSignature(signature);
        return DecodeSequence(parameters, data, 0);
    }

    internal static (string Name, IReadOnlyList<AbiType> Parameters) ParseSignature(string signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var open = signature.IndexOf('(', StringComparison.Ordinal);
        if (open <= 0 || !signature.TrimEnd().EndsWith(')'))
        {
            throw new FormatException($"'{signature}' is not a signature like name(type,...).");
        }
        var name = signature[..open].Trim();
        var list = signature.TrimEnd()[(open + 1)..^1];
        return (name, AbiType.SplitList(list).Select(AbiType.Parse).ToArray());
    }

    internal static string Canonicalise(string signature)
    {
        var (name, parameters) = ParseSignature(signature);
        return name + AbiType.Tuple(parameters).Canonical;
    }

    // ---- encoding ----

    private static void EncodeSequence(IReadOnlyList<AbiType> types, IReadOnlyList<object?> values, List<byte> output)
    {
        var headSize = types.Sum(t => t.HeadSize);
        var head = new List<byte>(headSize);
        var tail = new List<byte>();
        for (var i = 0; i < types.Count; i++)
        {
            if (types[i].IsDynamic)
            {
                head.AddRange(Word(new BigInteger(headSize + tail.Count)));
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
                output.AddRange(Word(value is bool b ? (b ? BigInteger.One : BigInteger.Zero) : throw Mismatch(type, value)));
                break;
            case AbiKind.UInt:
            {
                var v = ToInteger(value, type);
                if (v.Sign < 0 || v >= BigInteger.One << type.Size)
                {
                    throw new ArgumentOutOfRangeException(nameof(value), $"{v} does not fit in {type.Canonical}.");
                }
                output.AddRange(Word(v));
                break;
            }
            case AbiKind.Int:
            {
                var v = ToInteger(value, type);
                var limit = BigInteger.One << (type.Size - 1);
                if (v < -limit || v >= limit)
                {
                    throw new ArgumentOutOfRangeException(nameof(value), $"{v} does not fit in {type.Canonical}.");
                }
                // Two's complement over 256 bits: sign-extend negatives with 0xff.
                output.AddRange(Word(v.Sign < 0 ? (BigInteger.One << 256) + v : v));
                break;
            }
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
                output.AddRange(Word(new BigInteger(bytes.Length)));
                AppendRightPadded(bytes, output);
                break;
            }
            case AbiKind.String:
            {
                var bytes = Encoding.UTF8.GetBytes(value as string ?? throw Mismatch(type, value));
                output.AddRange(Word(new BigInteger(bytes.Length)));
                AppendRightPadded(bytes, output);
                break;
            }
            case AbiKind.Array:
            {
                var items = ToList(value, type);
                if (type.Size >= 0 && items.Count != type.Size)
                {
                    throw new ArgumentException($"{type.Canonical} takes {type.Size} items, {items.Count} given.", nameof(value));
                }
                if (type.Size < 0)
                {
                    output.AddRange(Word(new BigInteger(items.Count)));
                }
                EncodeSequence(Enumerable.Repeat(type.Element!, items.Count).ToArray(), items, output);
                break;
            }
            case AbiKind.Tuple:
            {
                var items = value is ITuple t and not IEnumerable
                    ? Enumerable.Range(0, t.Length).Select(i => t[i]).ToList()
                    : ToList(value, type);
                if (items.Count != type.Components.Count)
                {
                    throw new ArgumentException($"{type.Canonical} takes {type.Components.Count} members, {items.Count} given.", nameof(value));
                }
                EncodeSequence(type.Components, items, output);
                break;
            }
        }
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

    internal static byte[] Word(BigInteger unsignedValue)
    {
        var word = new byte[32];
        Secp256k1.WriteUInt256(unsignedValue, word);
        return word;
    }

    // ---- decoding ----

    private static object?[] DecodeSequence(IReadOnlyList<AbiType> types, ReadOnlySpan<byte> data, int start)
    {
        var values = new object?[types.Count];
        var position = start;
        for (var i = 0; i < types.Count; i++)
        {
            if (types[i].IsDynamic)
            {
                var offset = ReadOffset(data, position);
                var target = (long)start + offset;
                if (target > data.Length)
                {
                    throw new FormatException($"Offset {offset} at byte {position} points past the end of the data.");
                }
                values[i] = DecodeValue(types[i], data, (int)target);
            }
            else
            {
                values[i] = DecodeValue(types[i], data, position);
            }
            position += types[i].HeadSize;
        }
        return values;
    }

    private static object? DecodeValue(AbiType type, ReadOnlySpan<byte> data, int position)
    {
        switch (type.Kind)
        {
            case AbiKind.Address:
            {
                var word = ReadWord(data, position);
                if (word[..12].ContainsAnyExcept((byte)0))
                {
                    throw new FormatException($"Address at byte {position} has non-zero padding.");
                }
                return Hex.Encode(word[12..]);
            }
            case AbiKind.Bool:
            {
                var v = ReadUInt(data, position);
                return v.IsZero ? false : v.IsOne ? true : throw new FormatException($"Bool at byte {position} is neither 0 nor 1.");
            }
            case AbiKind.UInt:
            {
                var v = ReadUInt(data, position);
                return v < BigInteger.One << type.Size ? v : throw new FormatException($"{type.Canonical} at byte {position} is out of range.");
            }
            case AbiKind.Int:
            {
                var v = new BigInteger(ReadWord(data, position), isUnsigned: false, isBigEndian: true);
                var limit = BigInteger.One << (type.Size - 1);
                return v >= -limit && v < limit ? v : throw new FormatException($"{type.Canonical} at byte {position} is out of range.");
            }
            case AbiKind.FixedBytes:
            {
                var word = ReadWord(data, position);
                if (word[type.Size..].ContainsAnyExcept((byte)0))
                {
                    throw new FormatException($"{type.Canonical} at byte {position} has non-zero padding.");
                }
                return word[..type.Size].ToArray();
            }
            case AbiKind.Bytes:
                return ReadDynamicBytes(data, position).ToArray();
            case AbiKind.String:
                return Encoding.UTF8.GetString(ReadDynamicBytes(data, position));
            case AbiKind.Array:
            {
                var count = type.Size;
                var start = position;
                if (count < 0)
                {
                    count = ReadOffset(data, position);
                    start = position + 32;
                    // Every item takes at least one word of head: a larger count cannot be honest.
                    if ((long)count * type.Element!.HeadSize > data.Length - start)
                    {
                        throw new FormatException($"Array length {count} at byte {position} exceeds the data.");
                    }
                }
                return DecodeSequence(Enumerable.Repeat(type.Element!, count).ToArray(), data, start);
            }
            case AbiKind.Tuple:
                return DecodeSequence(type.Components, data, position);
            default:
                throw new InvalidOperationException($"Unknown ABI kind {type.Kind}.");
        }
    }

    private static ReadOnlySpan<byte> ReadDynamicBytes(ReadOnlySpan<byte> data, int position)
    {
        var length = ReadOffset(data, position);
        if ((long)position + 32 + length > data.Length)
        {
            throw new FormatException($"Byte string of length {length} at byte {position} exceeds the data.");
        }
        return data.Slice(position + 32, length);
    }

    private static ReadOnlySpan<byte> ReadWord(ReadOnlySpan<byte> data, int position)
    {
        if (position < 0 || (long)position + 32 > data.Length)
        {
            throw new FormatException($"Data ends before the word at byte {position} ({data.Length} bytes).");
        }
        return data.Slice(position, 32);
    }

    private static BigInteger ReadUInt(ReadOnlySpan<byte> data, int position) =>
        new(ReadWord(data, position), isUnsigned: true, isBigEndian: true);

    private static int ReadOffset(ReadOnlySpan<byte> data, int position)
    {
        var v = ReadUInt(data, position);
        return v <= int.MaxValue ? (int)v : throw new FormatException($"Offset or length {v} at byte {position} is too large.");
    }
}
