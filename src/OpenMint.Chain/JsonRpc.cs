using System.Collections;
using System.Globalization;
using System.Net.Http.Headers;
using System.Numerics;
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
    // Hides Exception.Data (an IDictionary) on purpose: CHAIN_API.md names this member Data.
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

/// <summary>
/// JSON-RPC 2.0 over HTTP POST, with a per-call timeout and batches. Given several URLs (one chain's nodes or
/// providers), a call that gets no usable answer from one (connection error, timeout, 5xx, garbage) is tried on
/// the next, and the URL that answered is kept for later calls; a node's error answer is never retried elsewhere.
/// </summary>
public sealed class JsonRpcClient
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");
    private readonly HttpClient _http;
    private readonly Uri[] _urls;
    private int _current;
    private long _nextId;

    public JsonRpcClient(HttpClient http, Uri url, TimeSpan? timeout = null)
        : this(http, [url ?? throw new ArgumentNullException(nameof(url))], timeout)
    {
    }

    public JsonRpcClient(HttpClient http, IReadOnlyList<Uri> urls, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(urls);
        if (urls.Count == 0 || urls.Any(u => u is null))
        {
            throw new ArgumentException("At least one JSON-RPC URL is needed.", nameof(urls));
        }
        _http = http;
        _urls = [.. urls];
        Timeout = timeout ?? TimeSpan.FromSeconds(30);
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), "The JSON-RPC timeout must be positive.");
        }
    }

    /// <summary>The URL calls go to first (the last one that answered).</summary>
    public Uri Url => _urls[Volatile.Read(ref _current)];

    public IReadOnlyList<Uri> Urls => _urls;

    public TimeSpan Timeout { get; }

    /// <summary>Calls one method; returns its result (JSON null is a valid result).</summary>
    /// <exception cref="JsonRpcException">The node answered with an error object.</exception>
    /// <exception cref="RpcTransportException">No usable answer: the outcome is unknown.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public async Task<JsonElement> CallAsync(string method, object?[] parameters, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        var id = Interlocked.Increment(ref _nextId);
        var body = WriteJson(writer => WriteRequest(writer, id, method, parameters ?? []));
        using var doc = await SendAsync(body, method, ct).ConfigureAwait(false);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new RpcTransportException($"{method}: the answer is not a JSON-RPC response object.");
        }
        if (root.TryGetProperty("id", out var answeredId) && answeredId.ValueKind == JsonValueKind.Number
            && (!answeredId.TryGetInt64(out var n) || n != id))
        {
            throw new RpcTransportException($"{method}: the answer carries id {answeredId.GetRawText()}, not {id}.");
        }
        return ParseResponse(root, method).GetResultOrThrow();
    }

    /// <summary>
    /// Sends all calls in one JSON-RPC batch; answers are matched by id (nodes may reorder them) and returned in call
    /// order. Per-call errors are values; a batch refused as a whole throws <see cref="JsonRpcException"/>.
    /// </summary>
    public async Task<IReadOnlyList<JsonRpcResult>> BatchAsync(IReadOnlyList<(string Method, object?[] Params)> calls, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(calls);
        if (calls.Count == 0)
        {
            return [];
        }
        var firstId = Interlocked.Add(ref _nextId, calls.Count) - calls.Count + 1;
        var body = WriteJson(writer =>
        {
            writer.WriteStartArray();
            for (var i = 0; i < calls.Count; i++)
            {
                WriteRequest(writer, firstId + i, calls[i].Method, calls[i].Params ?? []);
            }
            writer.WriteEndArray();
        });
        var label = $"batch of {calls.Count.ToString(CultureInfo.InvariantCulture)}";
        using var doc = await SendAsync(body, label, ct).ConfigureAwait(false);
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object)
        {
            // A node that rejects the whole batch (or does not support batches) answers with one error object.
            ParseResponse(root, label).GetResultOrThrow();
            throw new RpcTransportException($"{label}: a single result answered a batch.");
        }
        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new RpcTransportException($"{label}: the answer is not a JSON-RPC batch response.");
        }
        var byId = new Dictionary<long, JsonElement>();
        foreach (var answer in root.EnumerateArray())
        {
            if (answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("id", out var idElement)
                && idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt64(out var answerId))
            {
                byId[answerId] = answer;
            }
        }
        var results = new JsonRpcResult[calls.Count];
        for (var i = 0; i < calls.Count; i++)
        {
            if (!byId.TryGetValue(firstId + i, out var answer))
            {
                throw new RpcTransportException($"{label}: no answer for {calls[i].Method} (id {firstId + i}).");
            }
            results[i] = ParseResponse(answer, calls[i].Method);
        }
        return results;
    }

    private async Task<JsonDocument> SendAsync(byte[] body, string label, CancellationToken ct)
    {
        var first = Volatile.Read(ref _current);
        if (_urls.Length == 1)
        {
            return await SendToAsync(_urls[0], body, label, ct).ConfigureAwait(false);
        }
        var failures = new List<string>(_urls.Length);
        RpcTransportException? last = null;
        for (var i = 0; i < _urls.Length; i++)
        {
            var index = (first + i) % _urls.Length;
            try
            {
                var doc = await SendToAsync(_urls[index], body, label, ct).ConfigureAwait(false);
                if (index != first)
                {
                    Interlocked.CompareExchange(ref _current, index, first);
                }
                return doc;
            }
            catch (RpcTransportException e)
            {
                last = e;
                failures.Add(e.Message);
            }
        }
        throw new RpcTransportException($"{label}: none of {_urls.Length.ToString(CultureInfo.InvariantCulture)} RPC URLs answered ({string.Join("; ", failures)})", last)
        {
            IsTimeout = last!.IsTimeout,
        };
    }

    private async Task<JsonDocument> SendToAsync(Uri url, byte[] body, string label, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(Timeout);
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = JsonMediaType;
            using var response = await _http.PostAsync(url, content, cts.Token).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status >= 500)
            {
                throw new RpcTransportException($"{label}: HTTP {status.ToString(CultureInfo.InvariantCulture)} from {url}.");
            }
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(bytes);
            }
            catch (JsonException e)
            {
                throw new RpcTransportException(
                    $"{label}: HTTP {status.ToString(CultureInfo.InvariantCulture)} with an answer that is not JSON from {url}.", e);
            }
            if (!response.IsSuccessStatusCode && !LooksLikeJsonRpc(doc.RootElement))
            {
                doc.Dispose();
                throw new RpcTransportException($"{label}: HTTP {status.ToString(CultureInfo.InvariantCulture)} from {url}.");
            }
            return doc;
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            // Our CancelAfter (or HttpClient.Timeout) fired, not the caller: the node may still act on the request.
            throw new RpcTransportException($"{label}: no answer from {url} within {Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.", e)
            {
                IsTimeout = true,
            };
        }
        catch (HttpRequestException e)
        {
            throw new RpcTransportException($"{label}: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new RpcTransportException($"{label}: {e.Message}", e);
        }
    }

    private static bool LooksLikeJsonRpc(JsonElement root) =>
        root.ValueKind == JsonValueKind.Array
        || (root.ValueKind == JsonValueKind.Object && (root.TryGetProperty("error", out _) || root.TryGetProperty("result", out _)));

    internal static JsonRpcResult ParseResponse(JsonElement answer, string method)
    {
        if (answer.ValueKind != JsonValueKind.Object)
        {
            throw new RpcTransportException($"{method}: the answer is not a JSON-RPC response object.");
        }
        if (answer.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
        {
            return new JsonRpcResult(null, ToException(error));
        }
        if (answer.TryGetProperty("result", out var result))
        {
            return new JsonRpcResult(result.Clone(), null);
        }
        throw new RpcTransportException($"{method}: the answer has neither result nor error.");
    }

    private static JsonRpcException ToException(JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object)
        {
            return new JsonRpcException(-32603, error.ToString(), null);
        }
        var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var v) ? v : -32603;
        var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
        var data = error.TryGetProperty("data", out var d) && d.ValueKind != JsonValueKind.Null ? d.GetRawText() : null;
        return new JsonRpcException(code, message, data);
    }

    private static byte[] WriteJson(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            write(writer);
        }
        return stream.ToArray();
    }

    private static void WriteRequest(Utf8JsonWriter writer, long id, string method, object?[] parameters)
    {
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        writer.WriteNumber("id", id);
        writer.WriteString("method", method);
        writer.WritePropertyName("params");
        writer.WriteStartArray();
        foreach (var p in parameters)
        {
            WriteValue(writer, p);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>BigInteger → hex quantity and byte[] → 0x hex data, as Ethereum JSON-RPC expects; the rest as JSON.</summary>
    internal static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case BigInteger big:
                writer.WriteStringValue(HexQuantity.Encode(big));
                break;
            case byte[] bytes:
                writer.WriteStringValue(Hex.Encode(bytes));
                break;
            case JsonElement element:
                element.WriteTo(writer);
                break;
            case IEnumerable<KeyValuePair<string, object?>> map:
                writer.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, item);
                }
                writer.WriteEndObject();
                break;
            case IEnumerable list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    WriteValue(writer, item);
                }
                writer.WriteEndArray();
                break;
            default:
                JsonSerializer.Serialize(writer, value, value.GetType());
                break;
        }
    }
}
