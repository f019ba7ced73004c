using System.Numerics;
using System.Text;

namespace OpenMint.Chain;

/// <summary>ABI decoding, strict: padding, ranges, offsets and lengths are checked against the data.</summary>
internal static class AbiDecoder
{
    internal static object?[] DecodeSequence(IReadOnlyList<AbiType> types, ReadOnlySpan<byte> data, int start)
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
                return DecodeArray(type, data, position);
            case AbiKind.Tuple:
                return DecodeSequence(type.Components, data, position);
            default:
                throw new InvalidOperationException($"Unknown ABI kind {type.Kind}.");
        }
    }

    private static object?[] DecodeArray(AbiType type, ReadOnlySpan<byte> data, int position)
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
