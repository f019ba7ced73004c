using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace OpenMint.Chain;

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
        var body = JsonRpcWire.WriteJson(writer => JsonRpcWire.WriteRequest(writer, id, method, parameters ?? []));
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
        return JsonRpcWire.ParseResponse(root, method).GetResultOrThrow();
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
        var body = JsonRpcWire.WriteJson(writer =>
        {
            writer.WriteStartArray();
            for (var i = 0; i < calls.Count; i++)
            {
                JsonRpcWire.WriteRequest(writer, firstId + i, calls[i].Method, calls[i].Params ?? []);
            }
            writer.WriteEndArray();
        });
        var label = $"batch of {calls.Count.ToString(CultureInfo.InvariantCulture)}";
        using var doc = await SendAsync(body, label, ct).ConfigureAwait(false);
        return JsonRpcWire.ParseBatchResponse(doc.RootElement, firstId, [.. calls.Select(c => c.Method)], label);
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
            if (!response.IsSuccessStatusCode && !JsonRpcWire.LooksLikeJsonRpc(doc.RootElement))
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
}
