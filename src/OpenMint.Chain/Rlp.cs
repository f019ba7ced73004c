using System.Numerics;

namespace OpenMint.Chain;

/// <summary>A decoded RLP item: a byte string (<see cref="Bytes"/>) or a list (<see cref="Items"/>).</summary>
public sealed class RlpItem
{
    private RlpItem(bool isList, byte[] bytes, IReadOnlyList<RlpItem> items)
    {
        IsList = isList;
        Bytes = bytes;
        Items = items;
    }

    public bool IsList { get; }

    /// <summary>The payload of a byte string; empty for lists.</summary>
    public byte[] Bytes { get; }

    /// <summary>The members of a list; empty for byte strings.</summary>
    public IReadOnlyList<RlpItem> Items { get; }

    internal static RlpItem String(byte[] bytes) => new(false, bytes, []);

    internal static RlpItem List(IReadOnlyList<RlpItem> items) => new(true, [], items);

    /// <summary>The byte string as an unsigned big-endian integer; leading zeros are not canonical and rejected.</summary>
    public BigInteger ToBigInteger()
    {
        if (IsList)
        {
            throw new FormatException("An RLP list is not an integer.");
        }
        if (Bytes.Length > 0 && Bytes[0] == 0)
        {
            throw new FormatException("RLP integers have no leading zero bytes.");
        }
        return new BigInteger(Bytes, isUnsigned: true, isBigEndian: true);
    }

    public long ToLong()
    {
        var v = ToBigInteger();
        return v <= long.MaxValue ? (long)v : throw new FormatException("The RLP integer does not fit in a long.");
    }

    public override string ToString() =>
        IsList ? "[" + string.Join(", ", Items.Select(i => i.ToString())) + "]" : Hex.Encode(Bytes);
}

/// <summary>Recursive Length Prefix encoding (yellow paper, appendix B).</summary>
public static class Rlp
{
    public static byte[] EncodeBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 1 && bytes[0] < 0x80)
        {
            return [bytes[0]];
        }
        return [.. Header(0x80, bytes.Length), .. bytes];
    }

    /// <summary>A list of already-encoded items.</summary>
    public static byte[] EncodeList(params byte[][] encodedItems)
    {
        ArgumentNullException.ThrowIfNull(encodedItems);
        var length = encodedItems.Sum(i => i.Length);
        var output = new List<byte>(length + 9);
        output.AddRange(Header(0xc0, length));
        foreach (var item in encodedItems)
        {
            output.AddRange(item);
        }
        return [.. output];
    }

    /// <summary>A non-negative integer as its minimal big-endian bytes (zero is the empty string, 0x80).</summary>
    public static byte[] EncodeInteger(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "RLP integers are not negative.");
        }
        return EncodeBytes(value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true));
    }

    public static byte[] EncodeInteger(long value) => EncodeInteger(new BigInteger(value));

    /// <summary>Decodes exactly one item spanning the whole input; non-canonical encodings are rejected.</summary>
    /// <exception cref="FormatException">Truncated, trailing or non-canonical data.</exception>
    public static RlpItem Decode(ReadOnlySpan<byte> data)
    {
        var item = DecodeAt(data, 0, out var consumed, depth: 0);
        if (consumed != data.Length)
        {
            throw new FormatException($"{data.Length - consumed} bytes follow the RLP item.");
        }
        return item;
    }

    private static RlpItem DecodeAt(ReadOnlySpan<byte> data, int position, out int end, int depth)
    {
        if (depth > 64)
        {
            throw new FormatException("RLP nesting is too deep.");
        }
        if (position >= data.Length)
        {
            throw new FormatException("RLP data ends early.");
        }
        var prefix = data[position];
        if (prefix < 0x80)
        {
            end = position + 1;
            return RlpItem.String([prefix]);
        }
        if (prefix < 0xc0)
        {
            var (start, length) = ReadLength(data, position, 0x80);
            if (length == 1 && data[start] < 0x80)
            {
                throw new FormatException("A single byte below 0x80 must encode as itself.");
            }
            end = start + length;
            return RlpItem.String(data.Slice(start, length).ToArray());
        }
        var (listStart, listLength) = ReadLength(data, position, 0xc0);
        var items = new List<RlpItem>();
        var cursor = listStart;
        var listEnd = listStart + listLength;
        while (cursor < listEnd)
        {
            items.Add(DecodeAt(data[..listEnd], cursor, out cursor, depth + 1));
        }
        end = listEnd;
        return RlpItem.List(items);
    }

    private static (int Start, int Length) ReadLength(ReadOnlySpan<byte> data, int position, byte offset)
    {
        var prefix = data[position];
        long length;
        int start;
        if (prefix <= offset + 55)
        {
            length = prefix - offset;
            start = position + 1;
        }
        else
        {
            var lengthOfLength = prefix - offset - 55;
            if (lengthOfLength > 4 || position + 1 + lengthOfLength > data.Length)
            {
                throw new FormatException("RLP length prefix is truncated or too large.");
            }
            if (data[position + 1] == 0)
            {
                throw new FormatException("RLP lengths have no leading zero bytes.");
            }
            length = 0;
            for (var i = 0; i < lengthOfLength; i++)
            {
                length = (length << 8) | data[position + 1 + i];
            }
            if (length <= 55)
            {
                throw new FormatException("RLP long form used for a short payload.");
            }
            start = position + 1 + lengthOfLength;
        }
        if (start + length > data.Length)
        {
            throw new FormatException("RLP payload runs past the end of the data.");
        }
        return (start, (int)length);
    }

    private static byte[] Header(byte offset, int length)
    {
        if (length <= 55)
        {
            return [(byte)(offset + length)];
        }
        var lengthBytes = new BigInteger(length).ToByteArray(isUnsigned: true, isBigEndian: true);
        return [(byte)(offset + 55 + lengthBytes.Length), .. lengthBytes];
    }
}
