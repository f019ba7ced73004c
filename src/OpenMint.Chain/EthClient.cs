using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace OpenMint.Chain;

/// <summary>Arguments of eth_call / eth_estimateGas; null members are omitted.</summary>
public sealed record CallRequest(string? From, string? To, byte[]? Data, BigInteger? Value = null, long? Gas = null,
    BigInteger? MaxFeePerGas = null, BigInteger? MaxPriorityFeePerGas = null);

public sealed record TransactionReceipt(string TransactionHash, long BlockNumber, string BlockHash, bool Success, long GasUsed,
    BigInteger EffectiveGasPrice, string From, string? To, string? ContractAddress, IReadOnlyList<LogEntry> Logs);

public sealed record BlockHeader(long Number, string Hash, long Timestamp, long GasLimit, long GasUsed, BigInteger? BaseFeePerGas, int TransactionCount);

/// <summary>Typed eth_* calls. Quantities are parsed from hex; addresses and hashes come back lower-case.</summary>
public sealed class EthClient
{
    public EthClient(JsonRpcClient rpc)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        Rpc = rpc;
    }

    public JsonRpcClient Rpc { get; }

    public async Task<long> ChainIdAsync(CancellationToken ct) =>
        Json.Long(await Rpc.CallAsync("eth_chainId", [], ct).ConfigureAwait(false), "eth_chainId");

    public async Task<long> BlockNumberAsync(CancellationToken ct) =>
        Json.Long(await Rpc.CallAsync("eth_blockNumber", [], ct).ConfigureAwait(false), "eth_blockNumber");

    /// <summary>eth_getBlockByNumber without transaction bodies; null when the block does not exist (yet).</summary>
    /// <param name="tagOrNumber">"latest", "pending", "safe", "finalized", "earliest", a 0x quantity, or a decimal number.</param>
    public async Task<BlockHeader?> GetBlockAsync(string tagOrNumber, CancellationToken ct)
    {
        var block = await Rpc.CallAsync("eth_getBlockByNumber", [BlockTag(tagOrNumber), false], ct).ConfigureAwait(false);
        return block.ValueKind == JsonValueKind.Null ? null : Json.Block(block);
    }

    public Task<BlockHeader?> GetBlockAsync(long number, CancellationToken ct) =>
        GetBlockAsync(HexQuantity.Encode(number), ct);

    public async Task<long> GetTransactionCountAsync(string address, string block, CancellationToken ct) =>
        Json.Long(await Rpc.CallAsync("eth_getTransactionCount", [EthAddress.Parse(address), BlockTag(block)], ct).ConfigureAwait(false),
            "eth_getTransactionCount");

    public async Task<BigInteger> GetBalanceAsync(string address, CancellationToken ct) =>
        Json.Big(await Rpc.CallAsync("eth_getBalance", [EthAddress.Parse(address), "latest"], ct).ConfigureAwait(false), "eth_getBalance");

    public async Task<BigInteger> GasPriceAsync(CancellationToken ct) =>
        Json.Big(await Rpc.CallAsync("eth_gasPrice", [], ct).ConfigureAwait(false), "eth_gasPrice");

    public async Task<BigInteger> MaxPriorityFeePerGasAsync(CancellationToken ct) =>
        Json.Big(await Rpc.CallAsync("eth_maxPriorityFeePerGas", [], ct).ConfigureAwait(false), "eth_maxPriorityFeePerGas");

    /// <exception cref="JsonRpcException">The call reverts (code 3 with the revert data on Anvil and geth).</exception>
    public async Task<long> EstimateGasAsync(CallRequest call, CancellationToken ct) =>
        Json.Long(await Rpc.CallAsync("eth_estimateGas", [CallObject(call)], ct).ConfigureAwait(false), "eth_estimateGas");

    /// <summary>eth_call; returns the raw return data.</summary>
    /// <exception cref="JsonRpcException">The call reverts.</exception>
    public async Task<byte[]> CallAsync(CallRequest call, string block, CancellationToken ct) =>
        Json.Bytes(await Rpc.CallAsync("eth_call", [CallObject(call), BlockTag(block)], ct).ConfigureAwait(false), "eth_call");

    /// <summary>Broadcasts a signed transaction; returns its hash as the node reports it (lower-case).</summary>
    public async Task<string> SendRawTransactionAsync(byte[] raw, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var hash = await Rpc.CallAsync("eth_sendRawTransaction", [Hex.Encode(raw)], ct).ConfigureAwait(false);
        return Json.String(hash, "eth_sendRawTransaction").ToLowerInvariant();
    }

    /// <summary>The receipt, or null while the transaction is pending or unknown.</summary>
    public async Task<TransactionReceipt?> GetTransactionReceiptAsync(string hash, CancellationToken ct)
    {
        var receipt = await Rpc.CallAsync("eth_getTransactionReceipt", [hash], ct).ConfigureAwait(false);
        if (receipt.ValueKind == JsonValueKind.Null
            || !receipt.TryGetProperty("blockNumber", out var bn) || bn.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return Json.Receipt(receipt);
    }

    /// <summary>The transaction object as the node returns it, or null when unknown.</summary>
    public async Task<JsonElement?> GetTransactionByHashAsync(string hash, CancellationToken ct)
    {
        var tx = await Rpc.CallAsync("eth_getTransactionByHash", [hash], ct).ConfigureAwait(false);
        return tx.ValueKind == JsonValueKind.Null ? null : tx;
    }

    public async Task<byte[]> GetCodeAsync(string address, string block, CancellationToken ct) =>
        Json.Bytes(await Rpc.CallAsync("eth_getCode", [EthAddress.Parse(address), BlockTag(block)], ct).ConfigureAwait(false), "eth_getCode");

    /// <summary>eth_getLogs over a block range for one address and optional topic-0 filter.</summary>
    public async Task<IReadOnlyList<LogEntry>> GetLogsAsync(string address, long fromBlock, long toBlock, IReadOnlyList<string>? topic0, CancellationToken ct)
    {
        var filter = new Dictionary<string, object?>
        {
            ["address"] = EthAddress.Parse(address),
            ["fromBlock"] = HexQuantity.Encode(fromBlock),
            ["toBlock"] = HexQuantity.Encode(toBlock),
        };
        if (topic0 is { Count: > 0 })
        {
            filter["topics"] = new object?[] { topic0.ToArray() };
        }
        var logs = await Rpc.CallAsync("eth_getLogs", [filter], ct).ConfigureAwait(false);
        return logs.EnumerateArray().Select(Json.Log).ToArray();
    }

    internal static Dictionary<string, object?> CallObject(CallRequest call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var o = new Dictionary<string, object?>();
        if (call.From is not null)
        {
            o["from"] = EthAddress.Parse(call.From);
        }
        if (call.To is not null)
        {
            o["to"] = EthAddress.Parse(call.To);
        }
        if (call.Data is not null)
        {
            o["data"] = Hex.Encode(call.Data);
        }
        if (call.Value is { } value)
        {
            o["value"] = HexQuantity.Encode(value);
        }
        if (call.Gas is { } gas)
        {
            o["gas"] = HexQuantity.Encode(gas);
        }
        if (call.MaxFeePerGas is { } maxFee)
        {
            o["maxFeePerGas"] = HexQuantity.Encode(maxFee);
        }
        if (call.MaxPriorityFeePerGas is { } tip)
        {
            o["maxPriorityFeePerGas"] = HexQuantity.Encode(tip);
        }
        return o;
    }

    /// <summary>Block tags pass through; decimal numbers become hex quantities.</summary>
    internal static string BlockTag(string tagOrNumber)
    {
        ArgumentException.ThrowIfNullOrEmpty(tagOrNumber);
        if (tagOrNumber.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return HexQuantity.Encode(HexQuantity.Parse(tagOrNumber));
        }
        if (long.TryParse(tagOrNumber, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return HexQuantity.Encode(number);
        }
        return tagOrNumber switch
        {
            "latest" or "pending" or "earliest" or "safe" or "finalized" => tagOrNumber,
            _ => throw new ArgumentException($"'{tagOrNumber}' is not a block tag or number.", nameof(tagOrNumber)),
        };
    }
}

/// <summary>Reading Ethereum JSON shapes; a malformed answer is a transport problem (the node spoke, but not sense).</summary>
internal static class Json
{
    public static string String(JsonElement e, string what) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad(what, e);

    public static BigInteger Big(JsonElement e, string what)
    {
        try
        {
            return HexQuantity.Parse(String(e, what));
        }
        catch (FormatException ex)
        {
            throw new RpcTransportException($"{what}: '{e.GetRawText()}' is not a hex quantity.", ex);
        }
    }

    public static long Long(JsonElement e, string what)
    {
        var v = Big(e, what);
        return v <= long.MaxValue ? (long)v : throw Bad(what, e);
    }

    public static byte[] Bytes(JsonElement e, string what)
    {
        var s = String(e, what);
        try
        {
            return Hex.Decode(s);
        }
        catch (FormatException ex)
        {
            throw new RpcTransportException($"{what}: '{s}' is not hex data.", ex);
        }
    }

    private static JsonElement Member(JsonElement o, string name, string what) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) ? v : throw new RpcTransportException($"{what}: missing '{name}'.");

    private static JsonElement? Optional(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string Lower(JsonElement e, string what) => String(e, what).ToLowerInvariant();

    public static BlockHeader Block(JsonElement b)
    {
        const string what = "block";
        var number = Optional(b, "number");
        var hash = Optional(b, "hash");
        return new BlockHeader(
            number is { } n ? Long(n, what) : 0,
            hash is { } h ? Lower(h, what) : "",
            Long(Member(b, "timestamp", what), what),
            Long(Member(b, "gasLimit", what), what),
            Long(Member(b, "gasUsed", what), what),
            Optional(b, "baseFeePerGas") is { } fee ? Big(fee, what) : null,
            Optional(b, "transactions") is { ValueKind: JsonValueKind.Array } txs ? txs.GetArrayLength() : 0);
    }

    public static TransactionReceipt Receipt(JsonElement r)
    {
        const string what = "receipt";
        return new TransactionReceipt(
            Lower(Member(r, "transactionHash", what), what),
            Long(Member(r, "blockNumber", what), what),
            Lower(Member(r, "blockHash", what), what),
            Optional(r, "status") is { } status && Big(status, what) == BigInteger.One,
            Long(Member(r, "gasUsed", what), what),
            Optional(r, "effectiveGasPrice") is { } price ? Big(price, what) : BigInteger.Zero,
            Lower(Member(r, "from", what), what),
            Optional(r, "to") is { } to ? Lower(to, what) : null,
            Optional(r, "contractAddress") is { } created ? Lower(created, what) : null,
            Optional(r, "logs") is { ValueKind: JsonValueKind.Array } logs ? logs.EnumerateArray().Select(Log).ToArray() : []);
    }

    public static LogEntry Log(JsonElement l)
    {
        const string what = "log";
        return new LogEntry(
            Lower(Member(l, "address", what), what),
            Member(l, "topics", what).EnumerateArray().Select(t => Lower(t, what)).ToArray(),
            Lower(Member(l, "data", what), what),
            Optional(l, "logIndex") is { } index ? Long(index, what) : null,
            Optional(l, "transactionHash") is { } hash ? Lower(hash, what) : null,
            Optional(l, "blockNumber") is { } block ? Long(block, what) : null);
    }

    private static RpcTransportException Bad(string what, JsonElement e) =>
        new($"{what}: unexpected answer {Truncate(e.GetRawText())}.");

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";
}
