using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OpenMint.Api.Tests.Refresh;

/// <summary>
/// A real metadata server on 127.0.0.1 (Kestrel) that misbehaves on request: the path is
/// <c>/{behaviour}/{token id}</c>, and every request is counted per path. Listens on two ports: the
/// main one, and a second one used as a redirect target that the SSRF guard must refuse.
/// </summary>
public sealed class MetadataTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _hits = new();

    private MetadataTestServer(WebApplication app) => _app = app;

    /// <summary>Behaviour per token id for <c>/t/{id}</c> (default "ok").</summary>
    public ConcurrentDictionary<string, string> ByToken { get; } = new();

    public int Port { get; private set; }
    public int OtherPort { get; private set; }
    public string Base => $"http://127.0.0.1:{Port}/";

    /// <summary>Requests seen for <paramref name="path"/> (e.g. "/always503/7").</summary>
    public int Hits(string path) => _hits.TryGetValue(path, out var n) ? n : 0;

    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _gatedInFlight;
    private int _gatedMaxInFlight;

    /// <summary>Requests to <c>/gated/{id}</c> being held now (they wait for <see cref="OpenGate"/>, then answer like "ok").</summary>
    public int GatedInFlight => Volatile.Read(ref _gatedInFlight);

    /// <summary>The most <c>/gated/</c> requests this server ever held at once.</summary>
    public int GatedMaxInFlight => Volatile.Read(ref _gatedMaxInFlight);

    /// <summary>Lets every held and future <c>/gated/</c> request answer.</summary>
    public void OpenGate() => _gate.TrySetResult();

    public static async Task<MetadataTestServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0", "http://127.0.0.1:0");
        var app = builder.Build();
        var server = new MetadataTestServer(app);
        // /t/{id}: the behaviour configured for that token id; /{behaviour}/{id}: the behaviour named.
        app.Map("/t/{id}", (HttpContext context, string id) => server.HandleAsync(context, server.ByToken.GetValueOrDefault(id, "ok"), id));
        app.Map("/{behaviour}/{id}", server.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        var ports = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a).Port).ToList();
        server.Port = ports[0];
        server.OtherPort = ports[1];
        return server;
    }

    private async Task HandleAsync(HttpContext context, string behaviour, string id)
    {
        var count = _hits.AddOrUpdate($"/{behaviour}/{id}", 1, (_, n) => n + 1);
        var response = context.Response;
        var ct = context.RequestAborted;
        switch (behaviour)
        {
            case "ok":
                await Json(response, $$"""{"name":"Token {{id}}","image":"https://img.example/{{id}}.png","attributes":[{"trait_type":"v","value":{{count}}}]}""");
                break;
            case "gated":
                var now = Interlocked.Increment(ref _gatedInFlight);
                for (var max = _gatedMaxInFlight; now > max; max = _gatedMaxInFlight)
                {
                    Interlocked.CompareExchange(ref _gatedMaxInFlight, now, max);
                }
                try
                {
                    await _gate.Task.WaitAsync(ct);
                }
                finally
                {
                    Interlocked.Decrement(ref _gatedInFlight);
                }
                await Json(response, $$"""{"name":"Token {{id}} through the gate"}""");
                break;
            case "slow":
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
                await Json(response, """{"name":"too late"}""");
                break;
            case "hang":
                response.ContentType = "application/json";
                await response.Body.WriteAsync(Encoding.UTF8.GetBytes("{\"name\":"), ct);
                await response.Body.FlushAsync(ct);
                await Task.Delay(Timeout.Infinite, ct);
                break;
            case "flaky429":
                if (count == 1)
                {
                    response.StatusCode = 429;
                    await response.WriteAsync("slow down", ct);
                }
                else
                {
                    await Json(response, $$"""{"name":"Token {{id}} after 429"}""");
                }
                break;
            case "always503":
                response.StatusCode = 503;
                await response.WriteAsync("maintenance", ct);
                break;
            case "retryafter":
                if (count == 1)
                {
                    response.StatusCode = 503;
                    response.Headers.RetryAfter = "1";
                    await response.WriteAsync("come back in a second", ct);
                }
                else
                {
                    await Json(response, $$"""{"name":"Token {{id}} after Retry-After"}""");
                }
                break;
            case "notfound":
                response.StatusCode = 404;
                await response.WriteAsync("no such token", ct);
                break;
            case "error":
                response.StatusCode = 500;
                await response.WriteAsync("internal error", ct);
                break;
            case "html":
                response.ContentType = "text/html";
                await response.WriteAsync("<html><body>not json</body></html>", ct);
                break;
            case "textjson":
                response.ContentType = "text/plain";
                await response.WriteAsync("""{"name":"json with the wrong type"}""", ct);
                break;
            case "badjson":
                await Json(response, """{"name": "unterminated""");
                break;
            case "array":
                await Json(response, """[{"name":"a"},{"name":"b"}]""");
                break;
            case "huge":
                response.ContentType = "application/json";
                // 50 MB of a valid-looking JSON object, streamed without a Content-Length.
                var chunk = Encoding.UTF8.GetBytes(new string(' ', 64 * 1024));
                await response.Body.WriteAsync(Encoding.UTF8.GetBytes("{\"pad\":\""), ct);
                for (var written = 0L; written < 50L * 1024 * 1024; written += chunk.Length)
                {
                    await response.Body.WriteAsync(chunk, ct);
                }
                await response.Body.WriteAsync(Encoding.UTF8.GetBytes("\"}"), ct);
                break;
            case "redirect-other":
                response.Redirect($"http://127.0.0.1:{OtherPort}/ok/{id}");
                break;
            case "redirect-same":
                response.Redirect($"/ok/{id}");
                break;
            default:
                response.StatusCode = 400;
                break;
        }
    }

    private static Task Json(HttpResponse response, string body)
    {
        response.ContentType = "application/json";
        return response.WriteAsync(body);
    }

    /// <summary>A port nothing listens on (bound, then released).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
