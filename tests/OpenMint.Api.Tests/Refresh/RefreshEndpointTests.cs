using System.Net;
using System.Numerics;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace OpenMint.Api.Tests.Refresh;

/// <summary>Request validation, limits and their headers, status and list shapes (worker off: nothing is fetched).</summary>
public sealed class RefreshEndpointTests : IAsyncLifetime
{
    private RefreshTestHost _host = null!;

    public async Task InitializeAsync() => _host = await RefreshTestHost.StartAsync(new Dictionary<string, string?>(), runWorkers: false);

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(object body) =>
        _host.SendAsync(_host.Signed(HttpMethod.Post, "/v1/metadata-refreshes", body: body));

    public static TheoryData<string, object> BadBodies => new()
    {
        { "empty token list", new { collection_address = "0x0000000000000000000000000000000000000001", token_ids = Array.Empty<string>() } },
        { "duplicate ids", new { collection_address = "0x0000000000000000000000000000000000000001", token_ids = new[] { "1", "2", "1" } } },
        { "duplicate after canonical form", new { collection_address = "0x0000000000000000000000000000000000000001", token_ids = new[] { "7", "007" } } },
        { "negative id", new { collection_address = "0x0000000000000000000000000000000000000001", token_ids = new[] { "-1" } } },
        { "hex id", new { collection_address = "0x0000000000000000000000000000000000000001", token_ids = new[] { "0x10" } } },
        { "fractional id", new { collection_address = "0x0000000000000000000000000000000000000001", token_ids = new[] { "1.5" } } },
        { "id above uint256", new { collection_address = "0x0000000000000000000000000000000000000001", token_ids = new[] { (BigInteger.One << 256).ToString() } } },
        { "id as a number", new { collection_address = "0x0000000000000000000000000000000000000001", token_ids = new object[] { 1 } } },
        { "bad address", new { collection_address = "0x1234", token_ids = new[] { "1" } } },
        { "no token_ids", new { collection_address = "0x0000000000000000000000000000000000000001" } },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task malformed_refresh_requests_are_400_validation_errors(string why, object body)
    {
        var (response, json) = await PostAsync(body);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {(int)response.StatusCode} {json}");
        Assert.Equal("validation_error", json.GetProperty("code").GetString());
        Assert.Equal(3, json.EnumerateObject().Count());
    }

    [Fact]
    public async Task more_than_1000_token_ids_are_400_and_exactly_1000_are_accepted()
    {
        var project = await _host.AddProjectAsync();
        var collection = await _host.AddCollectionAsync(project, "http://127.0.0.1:9/");
        var (tooMany, json) = await PostAsync(new { collection_address = collection.Address, token_ids = Enumerable.Range(1, 1001).Select(i => i.ToString()).ToArray() });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal("token_ids: maximum number of items is 1000", json.GetProperty("message").GetString());
        var (ok, _) = await PostAsync(new { collection_address = collection.Address, token_ids = Enumerable.Range(1, 1000).Select(i => i.ToString()).ToArray() });
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
    }

    [Fact]
    public async Task an_unknown_collection_is_404()
    {
        var (response, json) = await PostAsync(new { collection_address = "0x00000000000000000000000000000000000000aa", token_ids = new[] { "1" } });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("resource_not_found", json.GetProperty("code").GetString());
    }

    [Fact]
    public async Task the_hourly_token_limit_counts_token_ids_and_every_post_carries_the_limit_headers()
    {
        var project = await _host.AddProjectAsync(tokensPerHour: 10);
        var collection = await _host.AddCollectionAsync(project, "http://127.0.0.1:9/");

        var (first, _) = await PostAsync(new { collection_address = collection.Address, token_ids = new[] { "1", "2", "3", "4", "5", "6" } });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal("10", Header(first, "x-imx-refreshes-limit"));
        Assert.Equal("4", Header(first, "x-imx-remaining-refreshes"));
        var reset = long.Parse(Header(first, "x-imx-refresh-limit-reset")!);
        Assert.Equal(0, reset % 3600);
        Assert.InRange(reset - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 0, 3600);

        var (over, body) = await PostAsync(new { collection_address = collection.Address, token_ids = new[] { "7", "8", "9", "10", "11" } });
        Assert.Equal((HttpStatusCode)429, over.StatusCode);
        Assert.Equal("refresh_limit_exceeded", body.GetProperty("code").GetString());
        Assert.Equal("Refresh limit exceeded", body.GetProperty("message").GetString());
        Assert.Equal("10", Header(over, "x-imx-refreshes-limit"));
        Assert.Equal("4", Header(over, "x-imx-remaining-refreshes"));
        Assert.Equal(reset.ToString(), Header(over, "x-imx-refresh-limit-reset"));

        var (fits, _) = await PostAsync(new { collection_address = collection.Address, token_ids = new[] { "7", "8", "9", "10" } });
        Assert.Equal(HttpStatusCode.Accepted, fits.StatusCode);
        Assert.Equal("0", Header(fits, "x-imx-remaining-refreshes"));
    }

    [Fact]
    public async Task more_than_5_requests_in_a_second_are_429_with_headers_until_the_next_second()
    {
        // A pinned clock: all six requests fall in one rate window however slow the machine is.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await RefreshTestHost.StartAsync(new Dictionary<string, string?>(), runWorkers: false, clock: clock);
        var project = await host.AddProjectAsync();
        var collection = await host.AddCollectionAsync(project, "http://127.0.0.1:9/");
        Task<(HttpResponseMessage Response, JsonElement Body)> Post(int tokenId) =>
            host.SendAsync(host.Signed(HttpMethod.Post, "/v1/metadata-refreshes", body: new { collection_address = collection.Address, token_ids = new[] { tokenId.ToString() } }));

        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await Post(i)).Response.StatusCode);
        }
        var (limited, body) = await Post(6);
        Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        Assert.Equal("refresh_limit_exceeded", body.GetProperty("code").GetString());
        Assert.Equal("Refresh limit exceeded", body.GetProperty("message").GetString());
        Assert.Equal("30000", Header(limited, "x-imx-refreshes-limit"));
        Assert.Equal("29995", Header(limited, "x-imx-remaining-refreshes"));
        Assert.NotNull(Header(limited, "x-imx-refresh-limit-reset"));

        clock.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal(HttpStatusCode.Accepted, (await Post(7)).Response.StatusCode);
    }

    [Fact]
    public async Task a_new_refresh_is_queued_with_all_tokens_pending_and_lists_newest_first_with_cursors()
    {
        var project = await _host.AddProjectAsync(requestsPerSecond: 100);
        var a = await _host.AddCollectionAsync(project, "http://127.0.0.1:9/");
        var b = await _host.AddCollectionAsync(project, "http://127.0.0.1:9/");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await _host.CreateRefreshAsync(i % 2 == 0 ? a : b, ["1", "2", "3"]));
        }

        var status = await _host.GetStatusAsync(ids[0]);
        Assert.Equal("queued", status.GetProperty("status").GetString());
        Assert.Equal(ids[0], status.GetProperty("refresh_id").GetString());
        Assert.Equal(a.Address, status.GetProperty("collection_address").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("started_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, status.GetProperty("completed_at").ValueKind);
        Assert.Equal(0, status.GetProperty("summary").GetProperty("succeeded").GetInt32());
        Assert.Equal(0, status.GetProperty("summary").GetProperty("failed").GetInt32());
        Assert.Equal(3, status.GetProperty("summary").GetProperty("pending").GetInt32());

        var seen = new List<string>();
        string? cursor = null;
        int remaining;
        do
        {
            var (response, page) = await _host.SendAsync(_host.Signed(HttpMethod.Get, "/v1/metadata-refreshes?page_size=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            foreach (var item in page.GetProperty("result").EnumerateArray())
            {
                seen.Add(item.GetProperty("refresh_id").GetString()!);
                Assert.Equal("queued", item.GetProperty("status").GetString());
                Assert.Equal(5, item.EnumerateObject().Count());
            }
            remaining = page.GetProperty("remaining").GetInt32();
            cursor = page.GetProperty("cursor").GetString();
        }
        while (remaining == 1);
        Assert.Equal(Enumerable.Reverse(ids).ToList(), seen.Where(ids.Contains).ToList());

        var (filtered, onlyB) = await _host.SendAsync(_host.Signed(HttpMethod.Get, $"/v1/metadata-refreshes?collection_address={b.Address.ToUpperInvariant().Replace("0X", "0x")}"));
        Assert.Equal(HttpStatusCode.OK, filtered.StatusCode);
        Assert.Equal([ids[3], ids[1]], onlyB.GetProperty("result").EnumerateArray().Select(e => e.GetProperty("refresh_id").GetString()!).ToArray());
        Assert.Equal(0, onlyB.GetProperty("remaining").GetInt32());

        var (errors, empty) = await _host.SendAsync(_host.Signed(HttpMethod.Get, $"/v1/metadata-refreshes/{ids[0]}/errors"));
        Assert.Equal(HttpStatusCode.OK, errors.StatusCode);
        Assert.Equal(0, empty.GetProperty("result").GetArrayLength());
        Assert.Equal(0, empty.GetProperty("remaining").GetInt32());

        var (unknown, _) = await _host.SendAsync(_host.Signed(HttpMethod.Get, $"/v1/metadata-refreshes/{Guid.NewGuid()}"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var (badCursor, badCursorBody) = await _host.SendAsync(_host.Signed(HttpMethod.Get, "/v1/metadata-refreshes?cursor=nonsense"));
        Assert.Equal(HttpStatusCode.BadRequest, badCursor.StatusCode);
        Assert.Equal("validation_error", badCursorBody.GetProperty("code").GetString());
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;
}
