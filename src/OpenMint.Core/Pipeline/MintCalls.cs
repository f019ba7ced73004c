using System.Globalization;
using System.Numerics;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// Calldata of the three preset mint calls and the logs they emit. Encoded here by hand (static
/// layouts, three shapes) so the planner can size calls without a general ABI codec; the tests
/// check the bytes against the Chain layer's <c>Abi.EncodeCall</c>.
/// </summary>
public static class MintCalls
{
    public const string ByQuantitySignature = "mintBatchByQuantity((address,uint256)[])";
    public const string ByIdSignature = "mintBatch((address,uint256[])[])";
    public const string Erc1155Signature = "safeMintBatch(address,uint256[],uint256[],bytes)";

    public static readonly byte[] ByQuantitySelector = [0xe1, 0x92, 0x78, 0x59];
    public static readonly byte[] ByIdSelector = [0x9e, 0x26, 0x41, 0xa3];
    public static readonly byte[] Erc1155Selector = [0xc3, 0x9d, 0xfe, 0xd8];

    /// <summary>keccak("Transfer(address,address,uint256)").</summary>
    public const string TransferTopic = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
    /// <summary>keccak("TransferBatch(address,address,address,uint256[],uint256[])").</summary>
    public const string TransferBatchTopic = "0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb";
    /// <summary>keccak("TransferSingle(address,address,address,uint256,uint256)").</summary>
    public const string TransferSingleTopic = "0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62";

    public static byte[] Encode(MintMethod method, IReadOnlyList<MintEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var w = new List<byte[]>();
        switch (method)
        {
            case MintMethod.ByQuantity:
                w.Add(ByQuantitySelector);
                w.Add(Word(32));
                w.Add(Word(entries.Count));
                foreach (var e in entries)
                {
                    w.Add(Address(e.To));
                    w.Add(Word(e.Quantity));
                }
                break;
            case MintMethod.ById:
                w.Add(ByIdSelector);
                w.Add(Word(32));
                w.Add(Word(entries.Count));
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
                break;
            case MintMethod.Erc1155:
                if (entries.Count != 1)
                {
                    throw new ArgumentException("safeMintBatch takes exactly one owner", nameof(entries));
                }
                var one = entries[0];
                var n = one.TokenIds!.Count;
                w.Add(Erc1155Selector);
                w.Add(Address(one.To));
                w.Add(Word(128));
                w.Add(Word(128 + 32L * (1 + n)));
                w.Add(Word(128 + 64L * (1 + n)));
                w.Add(Word(n));
                w.AddRange(one.TokenIds.Select(t => Word(BigInteger.Parse(t, CultureInfo.InvariantCulture))));
                w.Add(Word(n));
                w.AddRange(one.Amounts!.Select(a => Word(BigInteger.Parse(a, CultureInfo.InvariantCulture))));
                w.Add(Word(0));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(method));
        }
        var result = new byte[w.Sum(x => x.Length)];
        var at = 0;
        foreach (var part in w)
        {
            part.CopyTo(result, at);
            at += part.Length;
        }
        return result;
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

    /// <summary>ERC721 mints (Transfer from the zero address) of <paramref name="contract"/>, in log order.</summary>
    public static IReadOnlyList<(string To, BigInteger TokenId)> Erc721Mints(IEnumerable<MintLog> logs, string contract) =>
        logs.Where(l => string.Equals(l.Address, contract, StringComparison.OrdinalIgnoreCase) && l.Topics.Count == 4
                        && string.Equals(l.Topics[0], TransferTopic, StringComparison.OrdinalIgnoreCase) && IsZeroWord(l.Topics[1]))
            .OrderBy(l => l.LogIndex)
            .Select(l => (TopicAddress(l.Topics[2]), WordValue(l.Topics[3])))
            .ToList();

    /// <summary>ERC1155 mints (TransferBatch/TransferSingle from the zero address) of <paramref name="contract"/>, in log order.</summary>
    public static IReadOnlyList<(string To, BigInteger TokenId, BigInteger Amount)> Erc1155Mints(IEnumerable<MintLog> logs, string contract)
    {
        var result = new List<(string, BigInteger, BigInteger)>();
        foreach (var l in logs.Where(l => string.Equals(l.Address, contract, StringComparison.OrdinalIgnoreCase) && l.Topics.Count == 4 && IsZeroWord(l.Topics[2])).OrderBy(l => l.LogIndex))
        {
            var to = TopicAddress(l.Topics[3]);
            var data = Convert.FromHexString(l.Data.AsSpan(2));
            if (string.Equals(l.Topics[0], TransferSingleTopic, StringComparison.OrdinalIgnoreCase) && data.Length >= 64)
            {
                result.Add((to, WordAt(data, 0), WordAt(data, 32)));
            }
            else if (string.Equals(l.Topics[0], TransferBatchTopic, StringComparison.OrdinalIgnoreCase) && data.Length >= 64)
            {
                var ids = ArrayAt(data, (int)WordAt(data, 0));
                var values = ArrayAt(data, (int)WordAt(data, 32));
                for (var i = 0; i < ids.Count && i < values.Count; i++)
                {
                    result.Add((to, ids[i], values[i]));
                }
            }
        }
        return result;
    }

    private static List<BigInteger> ArrayAt(byte[] data, int offset)
    {
        var n = (int)WordAt(data, offset);
        var list = new List<BigInteger>(n);
        for (var i = 0; i < n; i++)
        {
            list.Add(WordAt(data, offset + 32 + 32 * i));
        }
        return list;
    }

    private static BigInteger WordAt(byte[] data, int offset) => new(data.AsSpan(offset, 32), isUnsigned: true, isBigEndian: true);

    private static BigInteger WordValue(string topic) => new(Convert.FromHexString(topic.AsSpan(2)), isUnsigned: true, isBigEndian: true);

    private static bool IsZeroWord(string topic) => WordValue(topic).IsZero;

    private static string TopicAddress(string topic) => "0x" + topic[^40..].ToLowerInvariant();
}
