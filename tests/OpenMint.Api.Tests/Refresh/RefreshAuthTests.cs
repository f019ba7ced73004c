using System.Net;
using System.Text.Json;

namespace OpenMint.Api.Tests.Refresh;

/// <summary>Owner signatures: the docs/api.md signature test vector with the auth clock pinned to its timestamp, and the refusal matrix.</summary>
public sealed class RefreshAuthTests : IAsyncLifetime
{
    private const string VectorSignature = "0x09cc4051c6feeac098cb5a10598ea5a12947c95132de85bc00628a79d526aaba0e4f455ca4ed9f4cba8e4dab4a3a732c2ca8d87c3b7e3f05f73eae3be686a4fe00";
    private const long VectorTimestamp = 1_700_000_000;
    private const string StrangerKeyHex = "0x2222222222222222222222222222222222222222222222222222222222222222";

    private RefreshTestHost _host = null!;
    private OpenMint.Core.Tenancy.Collection _collection = null!;

    public async Task InitializeAsync()
    {
        _host = await RefreshTestHost.StartAsync(new Dictionary<string, string?> { ["Refresh:AuthClockUnixSeconds"] = VectorTimestamp.ToString(System.Globalization.CultureInfo.InvariantCulture) }, runWorkers: false);
        var project = await _host.AddProjectAsync();
        _collection = await _host.AddCollectionAsync(project, "http://127.0.0.1:9/");
        await _host.AddTokensAsync(_collection, ["1"]);
    }

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private HttpRequestMessage Raw(HttpMethod method, string path, string? address, string? timestamp, string? signature, object? body = null)
    {
        var request = new HttpRequestMessage(method, new Uri(_host.BaseAddress, path));
        if (address is not null)
        {
            request.Headers.Add("x-imx-eth-address", address);
        }
        if (timestamp is not null)
        {
            request.Headers.Add("x-imx-eth-timestamp", timestamp);
        }
        if (signature is not null)
        {
            request.Headers.Add("x-imx-eth-signature", signature);
        }
        if (body is not null)
        {
            request.Content = System.Net.Http.Json.JsonContent.Create(body);
        }
        return request;
    }

    private object Body => new { collection_address = _collection.Address, token_ids = new[] { "1" } };

    [Fact]
    public async Task the_api_md_vector_signature_is_accepted_with_v_as_00_and_as_1b()
    {
        var (first, body) = await _host.SendAsync(Raw(HttpMethod.Post, "/v1/metadata-refreshes", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "1700000000", VectorSignature, Body));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.True(Guid.TryParse(body.GetProperty("refresh_id").GetString(), out _));

        var with1b = VectorSignature[..^2] + "1b";
        var (second, _) = await _host.SendAsync(Raw(HttpMethod.Get, "/v1/metadata-refreshes", RefreshTestHost.OwnerAddress.ToUpperInvariant().Replace("0X", "0x"), "1700000000", with1b));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    public static TheoryData<string, string?, string?, string?> Refusals => new()
    {
        { "no headers", null, null, null },
        { "no signature", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "1700000000", null },
        { "no timestamp", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", null, VectorSignature },
        { "no address", null, "1700000000", VectorSignature },
        { "malformed address", "0x19E7E376", "1700000000", VectorSignature },
        { "malformed signature", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "1700000000", "0xdeadbeef" },
        { "v out of range", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "1700000000", VectorSignature[..^2] + "05" },
        { "r and s all zero", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "1700000000", "0x" + new string('0', 128) + "00" },
        { "r above the curve order", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "1700000000", "0x" + new string('f', 128) + "00" },
        { "malformed timestamp", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "17e8", VectorSignature },
        { "negative timestamp", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "-1700000000", VectorSignature },
        { "signature of another timestamp", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "1700000001", VectorSignature },
        { "signature by someone else", "0x0000000000000000000000000000000000000001", "1700000000", VectorSignature },
        { "flipped recovery id", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "1700000000", VectorSignature[..^2] + "01" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task missing_malformed_or_forged_signature_headers_are_401_on_every_call(string why, string? address, string? timestamp, string? signature)
    {
        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Post, "/v1/metadata-refreshes", Body),
            (HttpMethod.Get, "/v1/metadata-refreshes", null),
            (HttpMethod.Get, $"/v1/metadata-refreshes/{Guid.NewGuid()}", null),
            (HttpMethod.Get, $"/v1/metadata-refreshes/{Guid.NewGuid()}/errors", null),
        })
        {
            var (response, json) = await _host.SendAsync(Raw(method, path, address, timestamp, signature, body));
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{why}: {method} {path} answered {(int)response.StatusCode} {json}");
            Assert.Equal("unauthorised_request", json.GetProperty("code").GetString());
            Assert.Equal(JsonValueKind.String, json.GetProperty("message").ValueKind);
            Assert.True(json.TryGetProperty("details", out _));
        }
    }

    [Fact]
    public async Task a_timestamp_outside_300_seconds_is_401_and_inside_is_accepted()
    {
        // The auth clock is pinned at 1700000000: the same key signing other timestamps.
        foreach (var (offset, expected) in new[] { (-301L, HttpStatusCode.Unauthorized), (301L, HttpStatusCode.Unauthorized), (-300L, HttpStatusCode.OK), (300L, HttpStatusCode.OK) })
        {
            var (response, _) = await _host.SendAsync(_host.Signed(HttpMethod.Get, "/v1/metadata-refreshes", timestamp: VectorTimestamp + offset));
            Assert.True(expected == response.StatusCode, $"offset {offset}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task a_valid_signer_who_does_not_own_the_collection_is_403()
    {
        var (post, body) = await _host.SendAsync(_host.Signed(HttpMethod.Post, "/v1/metadata-refreshes", StrangerKeyHex, VectorTimestamp, Body));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Equal("authentication_error", body.GetProperty("code").GetString());

        var mine = await _host.SendAsync(_host.Signed(HttpMethod.Post, "/v1/metadata-refreshes", timestamp: VectorTimestamp, body: Body));
        var refreshId = mine.Body.GetProperty("refresh_id").GetString();
        foreach (var path in new[] { $"/v1/metadata-refreshes/{refreshId}", $"/v1/metadata-refreshes/{refreshId}/errors", $"/v1/metadata-refreshes?collection_address={_collection.Address}" })
        {
            var (response, json) = await _host.SendAsync(_host.Signed(HttpMethod.Get, path, StrangerKeyHex, VectorTimestamp));
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{path}: {(int)response.StatusCode}");
            Assert.Equal("authentication_error", json.GetProperty("code").GetString());
        }
        // A stranger's own list is simply empty.
        var (list, listBody) = await _host.SendAsync(_host.Signed(HttpMethod.Get, "/v1/metadata-refreshes", StrangerKeyHex, VectorTimestamp));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(0, listBody.GetProperty("result").GetArrayLength());
    }
}
