using System.Collections.Concurrent;
using System.Globalization;

namespace OpenMint.Chain;

internal enum AbiKind
{
    Address,
    Bool,
    UInt,
    Int,
    FixedBytes,
    Bytes,
    String,
    Array,
    Tuple,
}

/// <summary>A parsed Solidity ABI type; <see cref="Size"/> is the bit width (uintN/intN), byte length (bytesN) or array length (-1: dynamic).</summary>
internal sealed class AbiType
{
    private static readonly ConcurrentDictionary<string, AbiType> Cache = new(StringComparer.Ordinal);

    private AbiType(AbiKind kind, int size, AbiType? element, IReadOnlyList<AbiType> components)
    {
        Kind = kind;
        Size = size;
        Element = element;
        Components = components;
        IsDynamic = kind switch
        {
            AbiKind.Bytes or AbiKind.String => true,
            AbiKind.Array => size < 0 || element!.IsDynamic,
            AbiKind.Tuple => components.Any(c => c.IsDynamic),
            _ => false,
        };
        HeadSize = IsDynamic ? 32 : kind switch
        {
            AbiKind.Array => size * element!.HeadSize,
            AbiKind.Tuple => components.Sum(c => c.HeadSize),
            _ => 32,
        };
        Canonical = kind switch
        {
            AbiKind.Address => "address",
            AbiKind.Bool => "bool",
            AbiKind.UInt => "uint" + size.ToString(CultureInfo.InvariantCulture),
            AbiKind.Int => "int" + size.ToString(CultureInfo.InvariantCulture),
            AbiKind.FixedBytes => "bytes" + size.ToString(CultureInfo.InvariantCulture),
            AbiKind.Bytes => "bytes",
            AbiKind.String => "string",
            AbiKind.Array => element!.Canonical + (size < 0 ? "[]" : "[" + size.ToString(CultureInfo.InvariantCulture) + "]"),
            _ => "(" + string.Join(",", components.Select(c => c.Canonical)) + ")",
        };
    }

    public AbiKind Kind { get; }
    public int Size { get; }
    public AbiType? Element { get; }
    public IReadOnlyList<AbiType> Components { get; }
    public bool IsDynamic { get; }

    /// <summary>Bytes this type takes in the head of its enclosing tuple: 32 for dynamic types (the offset).</summary>
    public int HeadSize { get; }

    /// <summary>The canonical spelling used in selectors: "uint" becomes "uint256", spaces go.</summary>
    public string Canonical { get; }

    public static AbiType Tuple(IReadOnlyList<AbiType> components) => new(AbiKind.Tuple, 0, null, components);

    public static AbiType Parse(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Cache.GetOrAdd(type, static t => ParseUncached(t.Trim()));
    }

    private static AbiType ParseUncached(string s)
    {
        if (s.Length == 0)
        {
            throw new FormatException("Empty ABI type.");
        }
        if (s.EndsWith(']'))
        {
            return ParseArray(s);
        }
        if (s.StartsWith("tuple(", StringComparison.Ordinal))
        {
            s = s[5..];
        }
        if (s.StartsWith('('))
        {
            if (!s.EndsWith(')'))
            {
                throw new FormatException($"Unbalanced parentheses in '{s}'.");
            }
            return Tuple(SplitList(s[1..^1]).Select(Parse).ToArray());
        }
        return ParseElementary(s);
    }

    /// <summary>T[] (dynamic) or T[k]; the last brackets bind outermost, so uint[2][] is a dynamic array of uint[2].</summary>
    private static AbiType ParseArray(string s)
    {
        var open = s.LastIndexOf('[');
        if (open <= 0)
        {
            throw new FormatException($"Bad array type '{s}'.");
        }
        var inner = Parse(s[..open]);
        var lengthText = s[(open + 1)..^1].Trim();
        if (lengthText.Length == 0)
        {
            return new AbiType(AbiKind.Array, -1, inner, []);
        }
        if (!int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length <= 0 || length > 1_000_000)
        {
            throw new FormatException($"Bad array length in '{s}'.");
        }
        return new AbiType(AbiKind.Array, length, inner, []);
    }

    private static AbiType ParseElementary(string s)
    {
        switch (s)
        {
            case "address":
                return new AbiType(AbiKind.Address, 160, null, []);
            case "bool":
                return new AbiType(AbiKind.Bool, 1, null, []);
            case "bytes":
                return new AbiType(AbiKind.Bytes, -1, null, []);
            case "string":
                return new AbiType(AbiKind.String, -1, null, []);
            case "uint":
                return new AbiType(AbiKind.UInt, 256, null, []);
            case "int":
                return new AbiType(AbiKind.Int, 256, null, []);
            case "function":
                return new AbiType(AbiKind.FixedBytes, 24, null, []);
        }
        if (TrySuffix(s, "uint", out var bits) && bits % 8 == 0 && bits is >= 8 and <= 256)
        {
            return new AbiType(AbiKind.UInt, bits, null, []);
        }
        if (TrySuffix(s, "int", out bits) && bits % 8 == 0 && bits is >= 8 and <= 256)
        {
            return new AbiType(AbiKind.Int, bits, null, []);
        }
        if (TrySuffix(s, "bytes", out var length2) && length2 is >= 1 and <= 32)
        {
            return new AbiType(AbiKind.FixedBytes, length2, null, []);
        }
        throw new FormatException($"Unsupported ABI type '{s}'.");
    }

    private static bool TrySuffix(string s, string prefix, out int number)
    {
        number = 0;
        return s.StartsWith(prefix, StringComparison.Ordinal)
            && s.Length > prefix.Length
            && s[prefix.Length] != '0'
            && int.TryParse(s.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>Splits "a,(b,c),d[]" at top-level commas.</summary>
    internal static List<string> SplitList(string s)
    {
        var parts = new List<string>();
        if (s.Trim().Length == 0)
        {
            return parts;
        }
        var depth = 0;
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            switch (s[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    if (depth < 0)
                    {
                        throw new FormatException($"Unbalanced parentheses in '{s}'.");
                    }
                    break;
                case ',' when depth == 0:
                    parts.Add(s[start..i].Trim());
                    start = i + 1;
                    break;
            }
        }
        if (depth != 0)
        {
            throw new FormatException($"Unbalanced parentheses in '{s}'.");
        }
        parts.Add(s[start..].Trim());
        return parts;
    }
}
