using System.Globalization;
using System.Text.Json;

namespace OpenMint.Chain;

/// <summary>The node answered with a JSON-RPC error object: the call reached the node and was refused.</summary>
public sealed class JsonRpcException : Exception
{
    public JsonRpcException(int code, string rpcMessage, string? data)
        : base($"JSON-RPC error {code.ToString(CultureInfo.InvariantCulture)}: {rpcMessage}")
    {
        Code = code;
        RpcMessage = rpcMessage;
        Data = data;
        DataHex = ExtractHex(data);
    }

    public int Code { get; }

    public string RpcMessage { get; }

    /// <summary>Raw JSON text of the error's data member, e.g. "\"0x08c3…\"", or null when absent.</summary>
    // Hides Exception.Data (an IDictionary) on purpose: it is the JSON-RPC error object's own "data" member.
    public new string? Data { get; }

    /// <summary>The data as 0x hex when it is a hex string (or an object whose "data" member is one, as some nodes nest it).</summary>
    public string? DataHex { get; }

    /// <summary>Readable revert reason when the data carries revert bytes, else null.</summary>
    public string? RevertReasonText => DataHex is null ? null : RevertReason.Decode(DataHex);

    private static string? ExtractHex(string? data)
    {
        if (data is null)
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(data);
            var element = doc.RootElement;
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("data", out var inner))
            {
                element = inner;
            }
            return element.ValueKind == JsonValueKind.String && IsHexData(element.GetString()) ? element.GetString()!.ToLowerInvariant() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool IsHexData(string? s) =>
        s is not null && s.Length % 2 == 0 && s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && s.AsSpan(2).ContainsAnyExcept(HexDigits) is false;

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");
}

/// <summary>
/// The call may or may not have reached the node: timeout, connection refused or reset, HTTP 5xx, or an answer
/// that is not JSON-RPC. For a send, the outcome is unknown; callers must reconcile rather than assume failure.
/// </summary>
public sealed class RpcTransportException : Exception
{
    public RpcTransportException(string message)
        : base(message)
    {
    }

    public RpcTransportException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when the per-call timeout expired (as opposed to a refused connection or a bad answer).</summary>
    public bool IsTimeout { get; init; }
}

/// <summary>One answer of a batch: either a result (possibly JSON null) or the node's error.</summary>
public sealed record JsonRpcResult(JsonElement? Result, JsonRpcException? Error)
{
    public JsonElement GetResultOrThrow() => Error is not null ? throw Error : Result ?? default;
}
