using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OpenMint.DevChain;

/// <param name="Port">127.0.0.1 port; 0 picks a free one.</param>
/// <param name="ResponseDelay">Time each answer takes (a stand-in for a studio server's own work).</param>
/// <param name="MaxConcurrent">Requests served at once; others wait their turn (null: unbounded).</param>
public sealed record DemoMetadataOptions(int Port = 0, TimeSpan? ResponseDelay = null, int? MaxConcurrent = null);

/// <summary>
/// A small ERC721 metadata server on 127.0.0.1 for <c>openmint dev</c> and the refresh benchmark:
/// <c>GET /metadata/{id}</c> (or <c>/metadata/{collection}/{id}</c>) answers a JSON object whose <c>description</c> and <c>refreshed</c> attribute
/// change on every request, so a metadata refresh visibly changes an asset. Point a collection at it with
/// base URI <c>http://127.0.0.1:{port}/metadata/</c> (the dev server allows loopback fetches).
/// </summary>
public sealed class DemoMetadataServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _served;

    private DemoMetadataServer(WebApplication app) => _app = app;

    public int Port { get; private set; }

    /// <summary>Base URI to configure on a collection (token id appended).</summary>
    public string BaseUri => $"http://127.0.0.1:{Port}/metadata/";

    public long Served => Interlocked.Read(ref _served);

    public static async Task<DemoMetadataServer> StartAsync(DemoMetadataOptions options, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port}");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        var app = builder.Build();
        var server = new DemoMetadataServer(app);
        var gate = options.MaxConcurrent is { } max ? new SemaphoreSlim(max) : null;
        // /metadata/{id} or /metadata/{collection}/{id}: the last segment is the token id.
        app.MapGet("/metadata/{**path}", async (HttpContext context, string path) =>
        {
            var id = path.TrimEnd('/').Split('/')[^1];
            if (gate is not null)
            {
                await gate.WaitAsync(context.RequestAborted).ConfigureAwait(false);
            }
            try
            {
                if (options.ResponseDelay is { } delay && delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, context.RequestAborted).ConfigureAwait(false);
                }
                var n = Interlocked.Increment(ref server._served);
                var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(
                    $$"""{"name":"Demo token {{Escape(id)}}","description":"Served by the OpenMint demo metadata server at {{now}}","image":"https://placehold.co/512x512?text={{Escape(id)}}","attributes":[{"trait_type":"refreshed","value":"{{now}}"},{"trait_type":"serial","value":{{n}}}]}""",
                    context.RequestAborted).ConfigureAwait(false);
            }
            finally
            {
                gate?.Release();
            }
        });
        await app.StartAsync(ct).ConfigureAwait(false);
        server.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        return server;
    }

    private static string Escape(string id) => id.All(char.IsAsciiLetterOrDigit) ? id : Uri.EscapeDataString(id);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
