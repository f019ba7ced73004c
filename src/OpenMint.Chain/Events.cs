using System.Numerics;

namespace OpenMint.Chain;

/// <summary>An event log as eth_getLogs and receipts return it: address and topics lower-case 0x hex, data 0x hex.</summary>
public sealed record LogEntry(string Address, IReadOnlyList<string> Topics, string Data, long? LogIndex, string? TransactionHash, long? BlockNumber);

/// <summary>A token a log minted (a transfer from the zero address): to whom, which id, how many (1 for ERC-721).</summary>
public sealed record MintedToken(string To, BigInteger TokenId, BigInteger Amount);

/// <summary>ERC-721 Transfer(address indexed from, address indexed to, uint256 indexed tokenId).</summary>
public static class Erc721Events
{
    public static readonly string TransferTopic = Hex.Encode(Abi.EventTopic("Transfer(address,address,uint256)"));

    /// <summary>The tokens <paramref name="contract"/> minted (Transfer from the zero address), in log order.</summary>
    public static IReadOnlyList<MintedToken> Mints(IEnumerable<LogEntry> logs, string contract)
    {
        var minted = new List<MintedToken>();
        foreach (var log in EventTopics.InLogOrder(logs, contract))
        {
            if (TryDecodeTransfer(log, out var from, out var to, out var tokenId) && from == EthAddress.Zero)
            {
                minted.Add(new MintedToken(to, tokenId, BigInteger.One));
            }
        }
        return minted;
    }

    /// <summary>False for anything but a 4-topic Transfer (ERC-20's Transfer has 3 topics and is rejected).</summary>
    public static bool TryDecodeTransfer(LogEntry log, out string from, out string to, out BigInteger tokenId)
    {
        from = to = "";
        tokenId = BigInteger.Zero;
        if (log is null || log.Topics.Count != 4 || !EventTopics.Is(log.Topics[0], TransferTopic))
        {
            return false;
        }
        return EventTopics.TryAddress(log.Topics[1], out from)
            && EventTopics.TryAddress(log.Topics[2], out to)
            && EventTopics.TryUInt(log.Topics[3], out tokenId);
    }
}

/// <summary>ERC-1155 TransferSingle and TransferBatch (operator, from, to indexed; ids and values in data).</summary>
public static class Erc1155Events
{
    public static readonly string TransferSingleTopic = Hex.Encode(Abi.EventTopic("TransferSingle(address,address,address,uint256,uint256)"));
    public static readonly string TransferBatchTopic = Hex.Encode(Abi.EventTopic("TransferBatch(address,address,address,uint256[],uint256[])"));

    /// <summary>The tokens <paramref name="contract"/> minted (TransferBatch / TransferSingle from the zero address), in log order.</summary>
    public static IReadOnlyList<MintedToken> Mints(IEnumerable<LogEntry> logs, string contract)
    {
        var minted = new List<MintedToken>();
        foreach (var log in EventTopics.InLogOrder(logs, contract))
        {
            if (TryDecodeTransferBatch(log, out _, out var from, out var to, out var ids, out var values) && from == EthAddress.Zero)
            {
                minted.AddRange(ids.Select((id, i) => new MintedToken(to, id, values[i])));
            }
            else if (TryDecodeTransferSingle(log, out _, out from, out to, out var id, out var value) && from == EthAddress.Zero)
            {
                minted.Add(new MintedToken(to, id, value));
            }
        }
        return minted;
    }

    public static bool TryDecodeTransferBatch(LogEntry log, out string op, out string from, out string to, out BigInteger[] ids, out BigInteger[] values)
    {
        op = from = to = "";
        ids = values = [];
        if (!TryHeader(log, TransferBatchTopic, out op, out from, out to) || !EventTopics.TryData(log.Data, out var data))
        {
            return false;
        }
        try
        {
            var decoded = Abi.Decode(["uint256[]", "uint256[]"], data);
            ids = ((object?[])decoded[0]!).Cast<BigInteger>().ToArray();
            values = ((object?[])decoded[1]!).Cast<BigInteger>().ToArray();
            return ids.Length == values.Length;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static bool TryDecodeTransferSingle(LogEntry log, out string op, out string from, out string to, out BigInteger id, out BigInteger value)
    {
        id = value = BigInteger.Zero;
        if (!TryHeader(log, TransferSingleTopic, out op, out from, out to) || !EventTopics.TryData(log.Data, out var data))
        {
            return false;
        }
        try
        {
            var decoded = Abi.Decode(["uint256", "uint256"], data);
            id = (BigInteger)decoded[0]!;
            value = (BigInteger)decoded[1]!;
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool TryHeader(LogEntry log, string topic0, out string op, out string from, out string to)
    {
        op = from = to = "";
        return log is not null
            && log.Topics.Count == 4
            && EventTopics.Is(log.Topics[0], topic0)
            && EventTopics.TryAddress(log.Topics[1], out op)
            && EventTopics.TryAddress(log.Topics[2], out from)
            && EventTopics.TryAddress(log.Topics[3], out to);
    }
}

internal static class EventTopics
{
    /// <summary>The logs <paramref name="contract"/> emitted, by log index (a log without one keeps its place).</summary>
    public static IEnumerable<LogEntry> InLogOrder(IEnumerable<LogEntry> logs, string contract) =>
        logs.Where(l => string.Equals(l.Address, contract, StringComparison.OrdinalIgnoreCase)).OrderBy(l => l.LogIndex ?? 0);

    public static bool Is(string? topic, string expected) => string.Equals(topic, expected, StringComparison.OrdinalIgnoreCase);

    public static bool TryAddress(string? topic, out string address)
    {
        address = "";
        if (!TryWord(topic, out var word) || word.AsSpan(0, 12).ContainsAnyExcept((byte)0))
        {
            return false;
        }
        address = Hex.Encode(word.AsSpan(12));
        return true;
    }

    public static bool TryUInt(string? topic, out BigInteger value)
    {
        value = BigInteger.Zero;
        if (!TryWord(topic, out var word))
        {
            return false;
        }
        value = new BigInteger(word, isUnsigned: true, isBigEndian: true);
        return true;
    }

    public static bool TryData(string? hex, out byte[] data)
    {
        data = [];
        if (hex is null || !hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || hex.Length % 2 != 0)
        {
            return false;
        }
        try
        {
            data = Convert.FromHexString(hex.AsSpan(2));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool TryWord(string? topic, out byte[] word)
    {
        word = [];
        return topic is { Length: 66 } && TryData(topic, out word);
    }
}
