using System.Text.Json;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Refresh;

/// <summary>The fetcher against a real misbehaving metadata server on 127.0.0.1, through the HTTP API.</summary>
public sealed class RefreshFetchTests : IAsyncLifetime
{
    private MetadataTestServer _metadata = null!;
    private RefreshTestHost _host = null!;
    private int _closedPort;

    public async Task InitializeAsync()
    {
        _metadata = await MetadataTestServer.StartAsync();
        _closedPort = MetadataTestServer.FreePort();
        // The guard stays on (no loopback, no private): only the metadata server's main port and the closed
        // port are allowed by exact endpoint, so a redirect to the server's other port must be refused.
        _host = await RefreshTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Refresh:AllowedEndpoints:0"] = $"127.0.0.1:{_metadata.Port}",
            ["Refresh:AllowedEndpoints:1"] = $"127.0.0.1:{_closedPort}",
            ["Refresh:RetryBaseDelay"] = "00:00:00.050",
            ["Refresh:PollInterval"] = "00:00:00.100",
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _metadata.DisposeAsync();
    }

    private static readonly (string Token, string Behaviour)[] Conditions =
    [
        ("1", "ok"),
        ("2", "slow"),
        ("3", "hang"),
        ("4", "flaky429"),
        ("5", "always503"),
        ("6", "retryafter"),
        ("7", "notfound"),
        ("8", "error"),
        ("9", "html"),
        ("10", "textjson"),
        ("11", "badjson"),
        ("12", "array"),
        ("13", "huge"),
        ("14", "redirect-other"),
        ("15", "redirect-same"),
    ];

    [Fact]
    public async Task each_bad_condition_of_a_metadata_server_is_classified_and_the_refresh_completes()
    {
        foreach (var (token, behaviour) in Conditions)
        {
            _metadata.ByToken[token] = behaviour;
        }
        var project = await _host.AddProjectAsync();
        var collection = await _host.AddCollectionAsync(project, _metadata.Base + "t/");
        await _host.AddTokensAsync(collection, Conditions.Select(c => c.Token));
        var ids = Conditions.Select(c => c.Token).Append("999").ToArray(); // 999: not a token OpenMint knows

        var refreshId = await _host.CreateRefreshAsync(collection, ids);
        var status = await _host.WaitCompletedAsync(refreshId, ids.Length);

        Assert.Equal(collection.Address, status.GetProperty("collection_address").GetString());
        Assert.NotEqual(JsonValueKind.Null, status.GetProperty("started_at").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, status.GetProperty("completed_at").ValueKind);
        var summary = status.GetProperty("summary");
        Assert.Equal(4, summary.GetProperty("succeeded").GetInt32()); // ok, 429 then 200, Retry-After then 200, same-origin redirect
        Assert.Equal(ids.Length - 4, summary.GetProperty("failed").GetInt32());
        Assert.Equal(0, summary.GetProperty("pending").GetInt32());

        var errors = (await _host.AllErrorsAsync(refreshId, pageSize: 3)).ToDictionary(e => e.GetProperty("token_id").GetString()!);
        Assert.Equal(ids.Length - 4, errors.Count);
        void Expect(string token, string code, int? status, string? bodyContains = null)
        {
            var e = errors[token];
            Assert.Equal(code, e.GetProperty("error_code").GetString());
            Assert.Equal(collection.Address, e.GetProperty("collection_address").GetString());
            Assert.Equal(_metadata.Base + "t/" + token, e.GetProperty("client_token_metadata_url").GetString());
            if (status is null)
            {
                Assert.Equal(JsonValueKind.Null, e.GetProperty("client_response_status_code").ValueKind);
            }
            else
            {
                Assert.Equal(status, e.GetProperty("client_response_status_code").GetInt32());
            }
            if (bodyContains is not null)
            {
                Assert.Contains(bodyContains, e.GetProperty("client_response_body").GetString());
            }
            Assert.True(e.GetProperty("client_response_body").ValueKind is JsonValueKind.Null or JsonValueKind.String);
        }
        Expect("2", "unable_to_retrieve_metadata", null);                    // slow: no response in 3 s
        Expect("3", "unable_to_retrieve_metadata", 200);                     // headers, then silence
        Expect("5", "invalid_response_status_code", 503, "maintenance");     // 503 three times
        Expect("7", "invalid_response_status_code", 404, "no such token");
        Expect("8", "invalid_response_status_code", 500, "internal error");
        Expect("9", "unable_to_decode_response", 200, "<html>");
        Expect("10", "unable_to_decode_response", 200, "wrong type");
        Expect("11", "unable_to_decode_response", 200, "unterminated");
        Expect("12", "unable_to_decode_response", 200, "[{");
        Expect("13", "unable_to_decode_response", 200);                      // 50 MB body: reading stopped at the cap
        Expect("14", "unable_to_retrieve_metadata", null, "refused");        // redirect to a loopback port the guard refuses
        Expect("999", "token_not_found", null);
        Assert.True(errors["13"].GetProperty("client_response_body").GetString()!.Length <= 2048);

        // Retries only on 429/503, at most 2; everything else is asked once; unknown tokens never.
        Assert.Equal(3, _metadata.Hits("/always503/5"));
        Assert.Equal(2, _metadata.Hits("/flaky429/4"));
        Assert.Equal(2, _metadata.Hits("/retryafter/6"));
        Assert.Equal(1, _metadata.Hits("/notfound/7"));
        Assert.Equal(1, _metadata.Hits("/error/8"));
        Assert.Equal(1, _metadata.Hits("/slow/2"));
        Assert.Equal(0, _metadata.Hits("/ok/14"));
        Assert.Equal(0, _metadata.Hits("/ok/999"));

        // Successes replace the stored metadata and stamp metadata_synced_at; failures leave it alone.
        var ok = await _host.ReadTokenAsync(collection, "1");
        Assert.Contains("\"Token 1\"", ok.Metadata);
        Assert.NotNull(ok.SyncedAt);
        Assert.Contains("after 429", (await _host.ReadTokenAsync(collection, "4")).Metadata);
        Assert.Contains("after Retry-After", (await _host.ReadTokenAsync(collection, "6")).Metadata);
        Assert.Contains("\"Token 15\"", (await _host.ReadTokenAsync(collection, "15")).Metadata);
        var untouched = await _host.ReadTokenAsync(collection, "12");
        Assert.Equal("""{"name":"before refresh"}""", untouched.Metadata);
        Assert.Null(untouched.SyncedAt);
    }

    [Fact]
    public async Task the_asset_read_endpoint_serves_the_refreshed_metadata()
    {
        var project = await _host.AddProjectAsync();
        var collection = await _host.AddCollectionAsync(project, _metadata.Base + "ok/");
        await _host.AddTokensAsync(collection, ["42"]);
        var key = await OpenMint.Api.Auth.ApiKeyIssuer.IssueAsync(_host.Store.Tenancy, project.Id, TimeProvider.System, CancellationToken.None);
        async Task<JsonElement> ReadAssetAsync()
        {
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_host.BaseAddress, $"/v1/chains/testchain/collections/{collection.Address}/nfts/42"));
            request.Headers.Add("x-immutable-api-key", key.Secret);
            var (response, body) = await _host.SendAsync(request);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            return body.GetProperty("result");
        }
        var before = await ReadAssetAsync();
        Assert.Equal("before refresh", before.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, before.GetProperty("metadata_synced_at").ValueKind);

        await _host.WaitCompletedAsync(await _host.CreateRefreshAsync(collection, ["42"]), 1);

        var after = await ReadAssetAsync();
        Assert.Equal("Token 42", after.GetProperty("name").GetString());
        Assert.Equal("https://img.example/42.png", after.GetProperty("image").GetString());
        Assert.Equal("v", after.GetProperty("attributes")[0].GetProperty("trait_type").GetString());
        Assert.Equal(JsonValueKind.String, after.GetProperty("metadata_synced_at").ValueKind);
    }

    [Fact]
    public async Task connection_refused_and_dns_failure_fail_with_unable_to_retrieve_metadata()
    {
        var project = await _host.AddProjectAsync();
        var refused = await _host.AddCollectionAsync(project, $"http://127.0.0.1:{_closedPort}/meta/");
        var nxdomain = await _host.AddCollectionAsync(project, "http://metadata.openmint-test.invalid/meta/");
        await _host.AddTokensAsync(refused, ["1", "2"]);
        await _host.AddTokensAsync(nxdomain, ["1"]);

        var a = await _host.CreateRefreshAsync(refused, ["1", "2"]);
        var b = await _host.CreateRefreshAsync(nxdomain, ["1"]);
        await _host.WaitCompletedAsync(a, 2);
        await _host.WaitCompletedAsync(b, 1);

        var refusedErrors = await _host.AllErrorsAsync(a);
        Assert.Equal(2, refusedErrors.Count);
        Assert.All(refusedErrors, e =>
        {
            Assert.Equal("unable_to_retrieve_metadata", e.GetProperty("error_code").GetString());
            Assert.Equal(JsonValueKind.Null, e.GetProperty("client_response_status_code").ValueKind);
        });
        var dns = Assert.Single(await _host.AllErrorsAsync(b));
        Assert.Equal("unable_to_retrieve_metadata", dns.GetProperty("error_code").GetString());
        Assert.Equal("http://metadata.openmint-test.invalid/meta/1", dns.GetProperty("client_token_metadata_url").GetString());
    }

    [Fact]
    public async Task the_guard_refuses_a_loopback_metadata_server_that_the_operator_did_not_allow()
    {
        var project = await _host.AddProjectAsync();
        var collection = await _host.AddCollectionAsync(project, $"http://127.0.0.1:{_metadata.OtherPort}/ok/");
        await _host.AddTokensAsync(collection, ["1"]);
        var id = await _host.CreateRefreshAsync(collection, ["1"]);
        await _host.WaitCompletedAsync(id, 1);
        var error = Assert.Single(await _host.AllErrorsAsync(id));
        Assert.Equal("unable_to_retrieve_metadata", error.GetProperty("error_code").GetString());
        Assert.Contains("refused", error.GetProperty("client_response_body").GetString());
        Assert.Equal(0, _metadata.Hits("/ok/1"));
    }

    [Fact]
    public async Task a_stopped_instance_releases_its_tokens_and_a_restarted_one_finishes_the_refresh()
    {
        var project = await _host.AddProjectAsync();
        // 40 slow tokens (each answers after 5 s, past the deadline) and 40 quick ones behind them.
        var ids = Enumerable.Range(100, 80).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        foreach (var id in ids.Take(40))
        {
            _metadata.ByToken[id] = "slow";
        }
        var collection = await _host.AddCollectionAsync(project, _metadata.Base + "t/");
        await _host.AddTokensAsync(collection, ids);
        var refreshId = await _host.CreateRefreshAsync(collection, ids);
        await Eventually.TrueAsync(async () => (await _host.GetStatusAsync(refreshId)).GetProperty("summary").GetProperty("pending").GetInt32() < ids.Count,
            "the worker to start");

        await _host.RestartAsync();
        var mid = await _host.GetStatusAsync(refreshId);
        var status = await _host.WaitCompletedAsync(refreshId, ids.Count);

        Assert.NotEqual("completed", mid.GetProperty("status").GetString());
        Assert.Equal(40, status.GetProperty("summary").GetProperty("succeeded").GetInt32());
        Assert.Equal(40, status.GetProperty("summary").GetProperty("failed").GetInt32());
        Assert.All(await _host.AllErrorsAsync(refreshId), e => Assert.Equal("unable_to_retrieve_metadata", e.GetProperty("error_code").GetString()));
    }
}
