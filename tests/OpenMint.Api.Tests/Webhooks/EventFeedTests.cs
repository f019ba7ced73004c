using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMint.Api.Tests.Minting;
using OpenMint.Core.Webhooks;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Webhooks;

/// <summary>GET /v1/events: the catch-up feed, paged by cursor while new events are written.</summary>
public sealed class EventFeedTests : IAsyncLifetime
{
    private readonly MintingServerFixture _server = new();
    private WebhookWorker _worker = null!;

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        _worker = new WebhookWorker(_server.Store.Events, _server.Store.Webhooks, WebhookTestBed.FastOptions(), TimeProvider.System, NullLogger<WebhookWorker>.Instance);
        await _worker.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _worker.StopAsync(CancellationToken.None);
        _worker.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<(List<JsonNode> Events, string? Next)> PageAsync(string? cursor, int size, string? key = null)
    {
        var response = await _server.SendAsync(HttpMethod.Get, $"/v1/events?page_size={size}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), key ?? _server.Key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await MintingServerFixture.JsonAsync(response);
        return (json["result"]!.AsArray().Select(n => n!).ToList(), (string?)json["page"]!["next_cursor"]);
    }

    [Fact]
    public async Task a_consumer_resuming_from_its_last_cursor_gets_every_event_once_in_order_while_events_are_written()
    {
        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
            {
                var response = await _server.PostAssetsAsync(_server.Erc721, [MintingServerFixture.Asset(MintingServerFixture.Unique("feed"))]);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
        });
        var seen = new List<JsonNode>();
        string? cursor = null;
        await Eventually.TrueAsync(async () =>
        {
            var (events, next) = await PageAsync(cursor, 7);
            seen.AddRange(events);
            cursor = next ?? cursor;
            return writing.IsCompleted && seen.Count >= 30;
        }, "30 events through the feed", TimeSpan.FromSeconds(30));
        await writing;
        await Task.Delay(300);
        var (rest, _) = await PageAsync(cursor, 200);
        Assert.Empty(rest);

        var ids = seen.Select(e => (string)e["event_id"]!).ToList();
        Assert.Equal(30, ids.Count);
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids); // uuid v7 ids increase in commit order
        Assert.All(seen, e => Assert.Equal("imtbl_zkevm_mint_request_updated", (string?)e["event_name"]));
        var stored = (await _server.Store.Events.ReadMintEventsAsync(0, 1000, CancellationToken.None)).ToDictionary(e => e.EventId.ToString());
        Assert.All(seen, e => Assert.Equal(JsonNode.Parse(stored[(string)e["event_id"]!].Payload)!.ToJsonString(), e.ToJsonString()));

        var (other, otherNext) = await PageAsync(null, 200, _server.OtherProjectKey);
        Assert.Empty(other); // another project's key sees none of them
        Assert.Null(otherNext);
    }

    [Fact]
    public async Task the_feed_needs_a_key_and_checks_its_parameters()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.SendAsync(HttpMethod.Get, "/v1/events", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.SendAsync(HttpMethod.Get, "/v1/events?page_size=201", _server.Key)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.SendAsync(HttpMethod.Get, "/v1/events?page_size=0", _server.Key)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.SendAsync(HttpMethod.Get, "/v1/events?cursor=bogus", _server.Key)).StatusCode);
    }
}
