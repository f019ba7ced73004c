using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace OpenMint.TestSupport;

/// <summary>What the proxy does with a JSON-RPC request.</summary>
public enum RpcFault
{
    /// <summary>Forward to the node and return its answer.</summary>
    None,
    /// <summary>Answer <c>503 Service Unavailable</c> without asking the node.</summary>
    ServiceUnavailable,
    /// <summary>Accept the request and never answer it (the client times out).</summary>
    Hang,
    /// <summary>Stop listening and close open connections: new connections are refused.</summary>
    Refuse,
}

/// <summary>
/// A loopback HTTP proxy between OpenMint and a node (Anvil) that can be switched between passing JSON-RPC
/// through, answering 503, hanging and refusing connections, to model an RPC outage on a real node.
/// It records the methods it saw and the raw transactions sent through it. HTTP/1.1 with Content-Length
/// bodies only (what the Chain layer's client sends).
/// </summary>
public sealed class RpcFaultProxy : IAsyncDisposable
{
    private static readonly HttpClient Upstream = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) }) { Timeout = TimeSpan.FromSeconds(30) };

    private readonly Uri _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<TcpClient, byte> _connections = new();
    private readonly ConcurrentQueue<(string Method, string? FirstParam)> _seen = new();
    private readonly object _gate = new();
    private TcpListener? _listener;
    private RpcFault _fault;
    private TaskCompletionSource _faultChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private (string Method, RpcFault Fault, bool Forward)? _trigger;

    private RpcFaultProxy(Uri upstream, int port)
    {
        _upstream = upstream;
        Port = port;
        Url = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    public Uri Url { get; }
    public int Port { get; }

    public RpcFault Fault
    {
        get { lock (_gate) { return _fault; } }
    }

    /// <summary>Starts a proxy to <paramref name="upstream"/> on a free loopback port, passing everything through.</summary>
    public static RpcFaultProxy Start(Uri upstream)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        var proxy = new RpcFaultProxy(upstream, ((IPEndPoint)listener.LocalEndpoint).Port);
        proxy.Listen(listener);
        return proxy;
    }

    /// <summary>Switches the fault now; open connections are closed when switching to <see cref="RpcFault.Refuse"/>.</summary>
    public void SetFault(RpcFault fault)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _trigger = null;
            changed = SwitchLocked(fault);
        }
        changed.TrySetResult();
    }

    /// <summary>
    /// Passes through until the first request calling <paramref name="method"/>, then switches to <paramref name="fault"/>
    /// and treats that request under it. With <paramref name="forwardFirst"/> that request reaches the node first and only
    /// its answer is lost (the client cannot know whether it was sent).
    /// </summary>
    public void SetFaultOnFirst(string method, RpcFault fault, bool forwardFirst)
    {
        lock (_gate)
        {
            _trigger = (method, fault, forwardFirst);
        }
    }

    /// <summary>How many calls of <paramref name="method"/> reached the proxy (whatever it did with them).</summary>
    public int Calls(string method) => _seen.Count(s => s.Method == method);

    /// <summary>The raw transactions (0x hex) of every eth_sendRawTransaction that reached the proxy, in order.</summary>
    public IReadOnlyList<string> RawTransactions =>
        _seen.Where(s => s.Method == "eth_sendRawTransaction" && s.FirstParam is not null).Select(s => s.FirstParam!).ToList();

    private TaskCompletionSource SwitchLocked(RpcFault fault)
    {
        var previous = _fault;
        _fault = fault;
        var changed = _faultChanged;
        _faultChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (fault == RpcFault.Refuse && previous != RpcFault.Refuse)
        {
            _listener?.Stop();
            _listener = null;
            foreach (var c in _connections.Keys)
            {
                Close(c);
            }
        }
        else if (fault != RpcFault.Refuse && previous == RpcFault.Refuse)
        {
            var listener = new TcpListener(IPAddress.Loopback, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            Listen(listener);
        }
        return changed;
    }

    private void Listen(TcpListener listener)
    {
        _listener = listener;
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
                {
                    return; // stopped (refuse) or disposed
                }
                _connections[client] = 0;
                _ = Task.Run(() => ServeAsync(client));
            }
        });
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            var buffer = new List<byte>(4096);
            while (!_stop.IsCancellationRequested)
            {
                var request = await ReadRequestAsync(stream, buffer, _stop.Token).ConfigureAwait(false);
                if (request is null)
                {
                    return;
                }
                var (path, body) = request.Value;
                var methods = Record(body);
                RpcFault fault;
                bool forwardFirst = false;
                Task faultChanged;
                TaskCompletionSource? changed = null;
                lock (_gate)
                {
                    if (_trigger is { } t && _fault == RpcFault.None && methods.Contains(t.Method))
                    {
                        _trigger = null;
                        forwardFirst = t.Forward;
                        changed = SwitchLocked(t.Fault);
                    }
                    fault = _fault;
                    faultChanged = _faultChanged.Task;
                }
                changed?.TrySetResult();
                if (forwardFirst)
                {
                    await ForwardAsync(path, body).ConfigureAwait(false); // the node acts; its answer is lost
                }
                switch (fault)
                {
                    case RpcFault.None:
                        var (status, answer) = await ForwardAsync(path, body).ConfigureAwait(false);
                        await WriteResponseAsync(stream, status, answer).ConfigureAwait(false);
                        break;
                    case RpcFault.ServiceUnavailable:
                        await WriteResponseAsync(stream, 503, "upstream unavailable"u8.ToArray(), "text/plain").ConfigureAwait(false);
                        break;
                    case RpcFault.Hang:
                        // Never answer this request; drop the connection once the fault is lifted (the client gave up long ago).
                        await Task.WhenAny(faultChanged, Task.Delay(Timeout.Infinite, _stop.Token)).ConfigureAwait(false);
                        return;
                    default:
                        return; // refuse: close
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
        }
        finally
        {
            Close(client);
        }
    }

    private HashSet<string> Record(byte[] body)
    {
        var methods = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(body);
            var calls = doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement.EnumerateArray().ToList() : [doc.RootElement];
            foreach (var call in calls)
            {
                if (call.TryGetProperty("method", out var m) && m.GetString() is { } method)
                {
                    string? first = null;
                    if (call.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Array && p.GetArrayLength() > 0 && p[0].ValueKind == JsonValueKind.String)
                    {
                        first = p[0].GetString();
                    }
                    _seen.Enqueue((method, first));
                    methods.Add(method);
                }
            }
        }
        catch (JsonException)
        {
        }
        return methods;
    }

    private async Task<(int Status, byte[] Body)> ForwardAsync(string path, byte[] body)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await Upstream.PostAsync(new Uri(_upstream, path), content, _stop.Token).ConfigureAwait(false);
            return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(_stop.Token).ConfigureAwait(false));
        }
        catch (HttpRequestException e)
        {
            return (502, Encoding.UTF8.GetBytes("upstream: " + e.Message));
        }
    }

    private static async Task<(string Path, byte[] Body)?> ReadRequestAsync(NetworkStream stream, List<byte> buffer, CancellationToken ct)
    {
        var chunk = new byte[8192];
        int headerEnd;
        while ((headerEnd = IndexOfHeaderEnd(buffer)) < 0)
        {
            var n = await stream.ReadAsync(chunk, ct).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }
            buffer.AddRange(chunk.AsSpan(0, n));
        }
        var head = Encoding.ASCII.GetString(buffer.GetRange(0, headerEnd).ToArray()).Split("\r\n");
        var path = head[0].Split(' ')[1];
        var length = 0;
        foreach (var line in head.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line[(colon + 1)..].Trim(), CultureInfo.InvariantCulture);
            }
            else if (colon > 0 && line[..colon].Trim().Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException("RpcFaultProxy handles Content-Length bodies only");
            }
        }
        var start = headerEnd + 4;
        while (buffer.Count < start + length)
        {
            var n = await stream.ReadAsync(chunk, ct).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }
            buffer.AddRange(chunk.AsSpan(0, n));
        }
        var body = buffer.GetRange(start, length).ToArray();
        buffer.RemoveRange(0, start + length);
        return (path, body);
    }

    private static int IndexOfHeaderEnd(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
        {
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    private static async Task WriteResponseAsync(NetworkStream stream, int status, byte[] body, string contentType = "application/json")
    {
        var reason = status switch { 200 => "OK", 502 => "Bad Gateway", 503 => "Service Unavailable", _ => "Status" };
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status.ToString(CultureInfo.InvariantCulture)} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\n\r\n");
        await stream.WriteAsync(head).ConfigureAwait(false);
        await stream.WriteAsync(body).ConfigureAwait(false);
        await stream.FlushAsync().ConfigureAwait(false);
    }

    private void Close(TcpClient client)
    {
        if (!_connections.TryRemove(client, out _))
        {
            return; // closed already (by the fault switch, disposal or its own handler)
        }
        try
        {
            if (client.Client is { } socket)
            {
                socket.LingerState = new LingerOption(true, 0); // reset, like a node that went away
            }
            client.Dispose();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
            _faultChanged.TrySetResult();
        }
        foreach (var c in _connections.Keys)
        {
            Close(c);
        }
        return ValueTask.CompletedTask;
    }
}
