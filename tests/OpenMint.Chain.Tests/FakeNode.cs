using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OpenMint.Chain.Tests;

/// <summary>A real HTTP server on 127.0.0.1 (Kestrel) that answers JSON-RPC requests from a handler.</summary>
internal sealed class FakeNode : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeNode(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>Request bodies as received, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Answers each request with whatever <paramref name="handler"/> writes to the response.</summary>
    public static async Task<FakeNode> StartAsync(Func<HttpContext, string, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeNode? node = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            node!.Requests.Enqueue(body);
            await handler(context, body);
        });
        await app.StartAsync();
        node = new FakeNode(app, new Uri(app.Urls.First()));
        return node;
    }

    /// <summary>Answers single JSON-RPC calls with result JSON from a method → result-text map (unknown methods: -32601).</summary>
    public static Task<FakeNode> StartWithResultsAsync(IReadOnlyDictionary<string, string> results) =>
        StartAsync((context, body) =>
        {
            using var doc = JsonDocument.Parse(body);
            var id = doc.RootElement.GetProperty("id").GetRawText();
            var method = doc.RootElement.GetProperty("method").GetString()!;
            var answer = results.TryGetValue(method, out var result)
                ? "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":" + result + "}"
                : "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":{\"code\":-32601,\"message\":\"method not found\"}}";
            return WriteJsonAsync(context, answer);
        });

    public static Task WriteJsonAsync(HttpContext context, string json, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json, context.RequestAborted);
    }

    public JsonRpcClient Client(TimeSpan? timeout = null) => new(SharedHttp, Url, timeout);

    // One HttpClient for all tests, as production code shares one per host.
    private static readonly HttpClient SharedHttp = new();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
