using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenMint.Api.Auth;
using OpenMint.Api.Tests.Refresh;
using OpenMint.Core.Tenancy;
using OpenMint.Core.Webhooks;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Webhooks;

/// <summary>
/// <c>openmint_metadata_refresh_completed</c> end to end: a real refresh against a real metadata server on 127.0.0.1, run
/// by the real host's workers, reaches a subscribed endpoint (signed) and the project's catch-up feed, and only once.
/// </summary>
public sealed class RefreshEventTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private MetadataTestServer _metadata = null!;
    private RefreshTestHost _host = null!;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _metadata = await MetadataTestServer.StartAsync();
        _receiver = await WebhookReceiver.StartAsync();
        _host = await RefreshTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Refresh:AllowedEndpoints:0"] = $"127.0.0.1:{_metadata.Port}",
            ["Refresh:PollInterval"] = "00:00:00.100",
            ["Webhooks:AllowLoopback"] = "true",
            ["Webhooks:PollInterval"] = "00:00:00.050",
            ["Webhooks:EndpointRefreshInterval"] = "00:00:00.200",
            ["Webhooks:FirstRetryDelay"] = "00:00:00.100",
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
        await _metadata.DisposeAsync();
    }

    [Fact]
    public async Task a_completed_refresh_is_delivered_to_subscribed_endpoints_and_is_in_the_feed_once()
    {
        _metadata.ByToken["2"] = "notfound";
        var project = await _host.AddProjectAsync();
        var collection = await _host.AddCollectionAsync(project, _metadata.Base + "t/");
        await _host.AddTokensAsync(collection, ["1", "2"]);
        var subscribed = await AddEndpointAsync(project, [WebhookEvents.RefreshCompleted]);
        var mintsOnly = await AddEndpointAsync(project, [WebhookEvents.MintRequestUpdated]);
        _receiver.Secrets.Enqueue(subscribed.Secret);

        var refreshId = await _host.CreateRefreshAsync(collection, ["1", "2"]);
        var status = await _host.WaitCompletedAsync(refreshId, 2);

        await Eventually.TrueAsync(() => Task.FromResult(_receiver.DeliveredCount == 1), "the refresh event delivered", Wait);
        var got = Assert.Single(_receiver.Received);
        Assert.True(got.Verified);
        var body = JsonNode.Parse(got.Body)!;
        Assert.Equal(WebhookEvents.RefreshCompleted, (string?)body["event_name"]);
        Assert.Equal(got.Id, (string?)body["event_id"]);
        var data = body["data"]!;
        Assert.Equal(refreshId, (string?)data["refresh_id"]);
        Assert.Equal(collection.Address, (string?)data["collection_address"]);
        Assert.Equal(status.GetProperty("completed_at").GetString(), (string?)data["completed_at"]);
        Assert.Equal((1, 1, 0), ((int)data["summary"]!["succeeded"]!, (int)data["summary"]!["failed"]!, (int)data["summary"]!["pending"]!));
        Assert.Empty(await _host.Store.Webhooks.ListDeliveriesAsync(mintsOnly.Id, null, 10, CancellationToken.None));

        var key = (await ApiKeyIssuer.IssueAsync(_host.Store.Tenancy, project.Id, TimeProvider.System, CancellationToken.None)).Secret;
        var feed = await Eventually.ValueAsync(() => FeedAsync(key), events => events.Count > 0, "the refresh event in the feed", Wait);
        var inFeed = Assert.Single(feed);
        Assert.Equal(got.Body, inFeed.ToJsonString());
    }

    [Fact]
    public async Task metrics_count_delivered_retried_and_failed_attempts_and_the_delivery_latency()
    {
        var before = await ScrapeAsync();
        await using var refusing = await WebhookReceiver.StartAsync();
        refusing.Answer = (_, _) => Task.FromResult(400);
        _receiver.Answer = (got, _) => Task.FromResult(got.Attempt == 1 ? 500 : 200);
        var project = await _host.AddProjectAsync();
        var collection = await _host.AddCollectionAsync(project, _metadata.Base + "t/");
        await _host.AddTokensAsync(collection, ["1"]);
        await AddEndpointAsync(project, [], _receiver.Url);
        await AddEndpointAsync(project, [], refusing.Url);

        var refreshId = await _host.CreateRefreshAsync(collection, ["1"]);
        await _host.WaitCompletedAsync(refreshId, 1);

        // The meter is process-wide (other tests deliver too): wait for this test's own outcomes to be recorded.
        await Eventually.TrueAsync(() => SettledAsync(project), "both deliveries settled", Wait);
        var after = await Eventually.ValueAsync(ScrapeAsync, m => Grew(before, m, "openmint_webhook_deliveries_total", "failed") >= 1, "the outcomes counted", Wait);
        foreach (var outcome in new[] { "delivered", "retried", "failed" })
        {
            Assert.True(Grew(before, after, "openmint_webhook_deliveries_total", outcome) >= 1, outcome);
        }
        Assert.True(Grew(before, after, "openmint_webhook_delivery_latency_seconds_count", null) >= 1);
        Assert.Contains(after, s => s.Name == "openmint_webhook_delivery_latency_seconds_bucket");
    }

    private async Task<bool> SettledAsync(Project project)
    {
        foreach (var e in await _host.Store.Webhooks.ListEndpointsAsync(project.Id, CancellationToken.None))
        {
            var ds = await _host.Store.Webhooks.ListDeliveriesAsync(e.Id, null, 10, CancellationToken.None);
            if (ds.Count != 1 || ds[0].Status == WebhookDeliveryStatus.Pending)
            {
                return false;
            }
        }
        return true;
    }

    private static double Grew(List<Operator.HealthAndMetricsTests.Sample> before, List<Operator.HealthAndMetricsTests.Sample> after, string name, string? outcome)
    {
        double Sum(List<Operator.HealthAndMetricsTests.Sample> m) => m.Where(s => s.Name == name && (outcome is null || s.Labels.GetValueOrDefault("outcome") == outcome)).Sum(s => s.Value);
        return Sum(after) - Sum(before);
    }

    private async Task<List<Operator.HealthAndMetricsTests.Sample>> ScrapeAsync()
    {
        using var response = await _host.Http.GetAsync(new Uri(_host.BaseAddress, "/metrics"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Operator.HealthAndMetricsTests.Parse(await response.Content.ReadAsStringAsync());
    }

    private async Task<WebhookEndpoint> AddEndpointAsync(Project project, string[] events, string? url = null)
    {
        var result = await WebhookRegistration.AddAsync(_host.Store.Webhooks, _host.Store.Tenancy, project.Id, url ?? _receiver.Url, events, TimeProvider.System, CancellationToken.None);
        return result.Endpoint ?? throw new InvalidOperationException(result.Error);
    }

    private async Task<List<JsonNode>> FeedAsync(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_host.BaseAddress, "/v1/events?page_size=200"));
        request.Headers.Add("x-immutable-api-key", key);
        using var response = await _host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return json["result"]!.AsArray().Select(n => n!).ToList();
    }
}
