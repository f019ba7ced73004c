using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text;
using System.Text.Json;
using OpenMint.Api.Tests.Refresh;

namespace OpenMint.Api.Tests.Hardening;

/// <summary>Refresh API: malleated and replayed signatures, lone surrogates in the body.</summary>
public sealed class RefreshHardeningTests : IAsyncLifetime
{
    private const string VectorSignature = "0x09cc4051c6feeac098cb5a10598ea5a12947c95132de85bc00628a79d526aaba0e4f455ca4ed9f4cba8e4dab4a3a732c2ca8d87c3b7e3f05f73eae3be686a4fe00";
    private const string VectorAddress = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A";
    private const long VectorTimestamp = 1_700_000_000;
    private static readonly BigInteger N = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private RefreshTestHost _host = null!;
    private OpenMint.Core.Tenancy.Collection _collection = null!;

    public async Task InitializeAsync()
    {
        _host = await RefreshTestHost.StartAsync(new Dictionary<string, string?> { ["Refresh:AuthClockUnixSeconds"] = VectorTimestamp.ToString(CultureInfo.InvariantCulture) }, runWorkers: false);
        var project = await _host.AddProjectAsync();
        _collection = await _host.AddCollectionAsync(project, "http://127.0.0.1:9/");
        await _host.AddTokensAsync(_collection, ["1"]);
    }

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private HttpRequestMessage Raw(HttpMethod method, string path, string signature, string? json = null, RefreshTestHost? host = null)
    {
        var request = new HttpRequestMessage(method, new Uri((host ?? _host).BaseAddress, path));
        request.Headers.Add("x-imx-eth-address", VectorAddress);
        request.Headers.Add("x-imx-eth-timestamp", VectorTimestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("x-imx-eth-signature", signature);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        return request;
    }

    private string Body => $$"""{"collection_address":"{{_collection.Address}}","token_ids":["1"]}""";

    /// <summary>The same signature with s replaced by n - s and the recovery id flipped: recovers the same signer.</summary>
    private static string Malleated(string signature)
    {
        var s = BigInteger.Parse("0" + signature[66..130], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var highS = (N - s).ToString("x64", CultureInfo.InvariantCulture)[^64..];
        var v = signature[^2..] == "00" ? "01" : "00";
        return signature[..66] + highS + v;
    }

    [Fact]
    public async Task a_high_s_signature_is_refused_on_every_call()
    {
        var malleated = Malleated(VectorSignature);
        Assert.Equal(OpenMint.Chain.PersonalSign.Recover("1700000000", VectorSignature), OpenMint.Chain.PersonalSign.Recover("1700000000", malleated));
        var (get, getBody) = await _host.SendAsync(Raw(HttpMethod.Get, "/v1/metadata-refreshes", malleated));
        Assert.True(HttpStatusCode.Unauthorized == get.StatusCode, $"GET answered {(int)get.StatusCode} {getBody}");
        Assert.Contains("s", getBody.GetProperty("details").GetString(), StringComparison.Ordinal);
        var (post, postBody) = await _host.SendAsync(Raw(HttpMethod.Post, "/v1/metadata-refreshes", malleated, Body));
        Assert.True(HttpStatusCode.Unauthorized == post.StatusCode, $"POST answered {(int)post.StatusCode} {postBody}");
        // The low-s original still works.
        Assert.Equal(HttpStatusCode.Accepted, (await _host.SendAsync(Raw(HttpMethod.Post, "/v1/metadata-refreshes", VectorSignature, Body))).Response.StatusCode);
    }

    [Fact]
    public async Task a_signature_creates_at_most_one_refresh_and_reads_may_reuse_it()
    {
        var (first, _) = await _host.SendAsync(Raw(HttpMethod.Post, "/v1/metadata-refreshes", VectorSignature, Body));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var (replay, replayBody) = await _host.SendAsync(Raw(HttpMethod.Post, "/v1/metadata-refreshes", VectorSignature, Body));
        Assert.True(HttpStatusCode.Unauthorized == replay.StatusCode, $"replayed POST answered {(int)replay.StatusCode} {replayBody}");
        Assert.Equal("unauthorised_request", replayBody.GetProperty("code").GetString());
        Assert.Contains("already used", replayBody.GetProperty("details").GetString(), StringComparison.Ordinal);
        // The 1b spelling of the same signature is the same signature.
        var (spelled, _) = await _host.SendAsync(Raw(HttpMethod.Post, "/v1/metadata-refreshes", VectorSignature[..^2] + "1b", Body));
        Assert.Equal(HttpStatusCode.Unauthorized, spelled.StatusCode);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await _host.SendAsync(Raw(HttpMethod.Get, "/v1/metadata-refreshes", VectorSignature))).Response.StatusCode);
        }
        await using var c = await _host.Store.Database.OpenConnectionAsync(CancellationToken.None);
        Assert.Equal(1L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM metadata_refresh"));
    }

    [Fact]
    public async Task a_signature_used_on_one_instance_is_refused_on_another_sharing_the_store()
    {
        await using var other = await RefreshTestHost.StartAsync(_host.Settings, runWorkers: false, databasePath: _host.DatabasePath);
        var (first, _) = await _host.SendAsync(Raw(HttpMethod.Post, "/v1/metadata-refreshes", VectorSignature, Body));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var (replay, body) = await other.SendAsync(Raw(HttpMethod.Post, "/v1/metadata-refreshes", VectorSignature, Body, other));
        Assert.True(HttpStatusCode.Unauthorized == replay.StatusCode, $"replay on the second instance answered {(int)replay.StatusCode} {body}");
    }

    [Theory]
    [InlineData("""{"collection_address":"0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2\ud800","token_ids":["1"]}""", "collection_address")]
    [InlineData("""{"collection_address":"COLLECTION","token_ids":["1\udc00"]}""", "token_ids")]
    [InlineData("""{"collection_address":"COLLECTION","token_ids":["1"],"extra\ud800":"\ud800"}""", "(property name #2)")]
    [InlineData("""{"collection_address":"COLLECTION","\udc00xtrue":"x","token_ids":["1"]}""", "(property name #1)")]
    public async Task a_lone_surrogate_in_a_refresh_body_is_a_400_naming_the_field(string json, string field)
    {
        var (response, body) = await _host.SendAsync(Raw(HttpMethod.Post, "/v1/metadata-refreshes", VectorSignature, json.Replace("COLLECTION", _collection.Address, StringComparison.Ordinal)));
        Assert.True(HttpStatusCode.BadRequest == response.StatusCode, $"answered {(int)response.StatusCode} {body}");
        Assert.Equal("validation_error", body.GetProperty("code").GetString());
        Assert.StartsWith(field, body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("details").ValueKind);
    }
}
