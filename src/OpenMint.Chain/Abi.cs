using System.Numerics;

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
        AbiEncoder.EncodeSequence(tuple.Components, values, output);
        return [.. output];
    }

    /// <exception cref="FormatException">The data is too short, has an offset out of range, or a value out of its type's range.</exception>
    public static object?[] Decode(IReadOnlyList<string> types, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(types);
        var components = types.Select(AbiType.Parse).ToArray();
        return AbiDecoder.DecodeSequence(components, data, 0);
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
        AbiEncoder.EncodeSequence(parameters, args, output);
        return [.. output];
    }

    /// <summary>Decodes the arguments of a call or error whose selector is already stripped, using the types of <paramref name="signature"/>.</summary>
    internal static object?[] DecodeArguments(string signature, ReadOnlySpan<byte> data)
    {
        var (_, parameters) = ParseSignature(signature);
        return AbiDecoder.DecodeSequence(parameters, data, 0);
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

    internal static byte[] Word(BigInteger unsignedValue)
    {
        var word = new byte[32];
        Secp256k1.WriteUInt256(unsignedValue, word);
        return word;
    }
}
