using System.Globalization;
using System.Numerics;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// Calldata of the three preset mint calls. Encoded here by hand (static layouts, three shapes) so the
/// planner can size calls without a general ABI codec; the tests check the bytes against the Chain layer's
/// <c>Abi.EncodeCall</c>. The logs they emit are decoded by the Chain layer (<c>Erc721Events</c>, <c>Erc1155Events</c>).
/// </summary>
public static class MintCalls
{
    public const string ByQuantitySignature = "mintBatchByQuantity((address,uint256)[])";
    public const string ByIdSignature = "mintBatch((address,uint256[])[])";
    public const string Erc1155Signature = "safeMintBatch(address,uint256[],uint256[],bytes)";

    public static readonly byte[] ByQuantitySelector = [0xe1, 0x92, 0x78, 0x59];
    public static readonly byte[] ByIdSelector = [0x9e, 0x26, 0x41, 0xa3];
    public static readonly byte[] Erc1155Selector = [0xc3, 0x9d, 0xfe, 0xd8];

    public static byte[] Encode(MintMethod method, IReadOnlyList<MintEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var words = method switch
        {
            MintMethod.ByQuantity => ByQuantity(entries),
            MintMethod.ById => ById(entries),
            MintMethod.Erc1155 => Erc1155(entries),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
        var result = new byte[words.Sum(x => x.Length)];
        var at = 0;
        foreach (var part in words)
        {
            part.CopyTo(result, at);
            at += part.Length;
        }
        return result;
    }

    private static List<byte[]> ByQuantity(IReadOnlyList<MintEntry> entries)
    {
        List<byte[]> w = [ByQuantitySelector, Word(32), Word(entries.Count)];
        foreach (var e in entries)
        {
            w.Add(Address(e.To));
            w.Add(Word(e.Quantity));
        }
        return w;
    }

    private static List<byte[]> ById(IReadOnlyList<MintEntry> entries)
    {
        List<byte[]> w = [ByIdSelector, Word(32), Word(entries.Count)];
        // Offsets of each tuple, relative to the start of the offsets block.
        long offset = 32L * entries.Count;
        foreach (var e in entries)
        {
            w.Add(Word(offset));
            offset += 32L * (3 + e.TokenIds!.Count);
        }
        foreach (var e in entries)
        {
            w.Add(Address(e.To));
            w.Add(Word(64));
            w.Add(Word(e.TokenIds!.Count));
            w.AddRange(e.TokenIds.Select(t => Word(BigInteger.Parse(t, CultureInfo.InvariantCulture))));
        }
        return w;
    }

    private static List<byte[]> Erc1155(IReadOnlyList<MintEntry> entries)
    {
        if (entries.Count != 1)
        {
            throw new ArgumentException("safeMintBatch takes exactly one owner", nameof(entries));
        }
        var one = entries[0];
        var n = one.TokenIds!.Count;
        List<byte[]> w = [Erc1155Selector, Address(one.To), Word(128), Word(128 + 32L * (1 + n)), Word(128 + 64L * (1 + n)), Word(n)];
        w.AddRange(one.TokenIds.Select(t => Word(BigInteger.Parse(t, CultureInfo.InvariantCulture))));
        w.Add(Word(n));
        w.AddRange(one.Amounts!.Select(a => Word(BigInteger.Parse(a, CultureInfo.InvariantCulture))));
        w.Add(Word(0));
        return w;
    }

    public static byte[] Word(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value));
        }
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (bytes.Length > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "more than 256 bits");
        }
        var word = new byte[32];
        bytes.CopyTo(word, 32 - bytes.Length);
        return word;
    }

    private static byte[] Address(string address)
    {
        var raw = Convert.FromHexString(address.AsSpan(2));
        if (raw.Length != 20)
        {
            throw new ArgumentException($"not an address: {address}", nameof(address));
        }
        var word = new byte[32];
        raw.CopyTo(word, 12);
        return word;
    }
}
