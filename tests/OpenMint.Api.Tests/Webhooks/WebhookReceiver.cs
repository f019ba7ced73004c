using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace OpenMint.Api.Tests.Webhooks;

/// <summary>One POST the receiver got, with whether its signature verified (StandardWebhooks) under each known secret.</summary>
public sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, string Body, IReadOnlyList<bool> VerifiedBySecret, int Attempt)
{
    public bool Verified => VerifiedBySecret.Any(v => v);
}

/// <summary>
/// A real HTTP receiver on 127.0.0.1 that verifies every delivery with the StandardWebhooks library and answers what
/// <see cref="Answer"/> decides (given the request and how many times this webhook-id arrived, 1 for the first).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);

    private WebhookReceiver(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    /// <summary>An <see cref="Answer"/> that resets the connection instead of answering.</summary>
    public const int ResetConnection = -1;

    public int Port => new Uri(Url).Port;

    /// <summary>Secrets a delivery is verified against (add the new one on rotation).</summary>
    public ConcurrentQueue<string> Secrets { get; } = new();

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public Func<ReceivedWebhook, HttpContext, Task<int>> Answer { get; set; } = (_, _) => Task.FromResult(200);

    /// <summary>The first 2xx-answered delivery of each webhook-id, in arrival order.</summary>
    public List<ReceivedWebhook> Delivered { get; } = [];

    public static async Task<WebhookReceiver> StartAsync(int port = 0, string? secret = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/hook", async (HttpContext ctx) =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            var body = await reader.ReadToEndAsync(ctx.RequestAborted);
            var id = ctx.Request.Headers["webhook-id"].ToString();
            var verified = receiver!.Secrets.Select(s => Verifies(s, body, ctx.Request.Headers)).ToList();
            var attempt = receiver._attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
            var got = new ReceivedWebhook(id, ctx.Request.Headers["webhook-timestamp"].ToString(), ctx.Request.Headers["webhook-signature"].ToString(), body, verified, attempt);
            receiver.Received.Enqueue(got);
            var status = await receiver.Answer(got, ctx);
            if (status == ResetConnection)
            {
                ctx.Abort();
                return Results.Empty;
            }
            if (status is >= 200 and < 300)
            {
                lock (receiver.Delivered)
                {
                    if (receiver.Delivered.All(d => d.Id != id))
                    {
                        receiver.Delivered.Add(got);
                    }
                }
            }
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/hook";
        receiver = new WebhookReceiver(app, url);
        if (secret is not null)
        {
            receiver.Secrets.Enqueue(secret);
        }
        return receiver;
    }

    /// <summary>
    /// StandardWebhooks' verifier over the headers, and over each <c>v1,</c> entry of <c>webhook-signature</c> on its own
    /// (while a rotated-out secret still signs there are two; the library's <c>Verify</c> in 1.1.2 matched only the first).
    /// </summary>
    public static bool Verifies(string secret, string body, IHeaderDictionary headers)
    {
        var entries = headers["webhook-signature"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return entries.Prepend(headers["webhook-signature"].ToString()).Any(entry =>
        {
            var single = new HeaderDictionary
            {
                ["webhook-id"] = headers["webhook-id"], ["webhook-timestamp"] = headers["webhook-timestamp"], ["webhook-signature"] = entry,
            };
            try
            {
                new StandardWebhook(secret).Verify(body, single);
                return true;
            }
            catch (WebhookVerificationException)
            {
                return false;
            }
        });
    }

    public int DeliveredCount
    {
        get
        {
            lock (Delivered)
            {
                return Delivered.Count;
            }
        }
    }

    public List<ReceivedWebhook> DeliveredSnapshot()
    {
        lock (Delivered)
        {
            return [.. Delivered];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
