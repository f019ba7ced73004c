using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using OpenMint.Api.Tests.Minting;
using OpenMint.Core.Tenancy;
using static OpenMint.Api.Tests.Minting.MintingServerFixture;

namespace OpenMint.Api.Tests.Hardening;

/// <summary>Bodies, paths and headers the API used to answer with a 500, a 202 that can only revert, or a misleading error.</summary>
public sealed class IntakeHardeningTests(MintingServerFixture server) : IClassFixture<MintingServerFixture>
{
    private const string TwoTo128 = "340282366920938463463374607431768211456";
    private const string MaxUint256 = "115792089237316195423570985008687907853269984665640564039457584007913129639935";

    private static async Task<JsonObject> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code, string? messageContains = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(code, (string?)body["code"]);
        foreach (var key in new[] { "code", "message", "details", "link", "trace_id" })
        {
            Assert.True(body.ContainsKey(key), $"error body lacks {key}: {text}");
        }
        if (messageContains is not null)
        {
            Assert.Contains(messageContains, (string)body["message"]!, StringComparison.Ordinal);
        }
        return body;
    }

    private async Task<string> CollectionAsync(CollectionKind kind, PresetVariant variant)
    {
        var address = "0x" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();
        await server.Store.Tenancy.AddCollectionAsync(new Collection(0, ChainName, address, server.Project.Id, kind, variant, null, true, DateTimeOffset.UtcNow), CancellationToken.None);
        return address;
    }

    public static TheoryData<string, string> LoneSurrogates => new()
    {
        { """{"assets":[{"reference_id":"a\ud800","owner_address":"0xabcdef0123456789abcdef0123456789abcdef01"}]}""", "/assets/0/reference_id" },
        { """{"assets":[{"reference_id":"a","owner_address":"0xabcdef0123456789abcdef0123456789abcdef0\udc00"}]}""", "/assets/0/owner_address" },
        { """{"assets":[{"reference_id":"a","owner_address":"0xabcdef0123456789abcdef0123456789abcdef01","token_id":"1\ud800"}]}""", "/assets/0/token_id" },
        { """{"assets":[{"reference_id":"a","owner_address":"0xabcdef0123456789abcdef0123456789abcdef01","token_id":"1","amount":"\udfff"}]}""", "/assets/0/amount" },
        { """{"assets":[{"reference_id":"a","owner_address":"0xabcdef0123456789abcdef0123456789abcdef01","metadata":{"name":"x\ud800y"}}]}""", "/assets/0/metadata/name" },
        { """{"assets":[{"reference_id":"a","owner_address":"0xabcdef0123456789abcdef0123456789abcdef01","metadata":{"k\ud800":"v"}}]}""", "/assets/0/metadata/(property name #0)" },
        { """{"assets":[{"reference_id":"a","owner_address":"0xabcdef0123456789abcdef0123456789abcdef01","metadata":{"custom":{"deep":["\udbff"]}}}]}""", "/assets/0/metadata/custom/deep/0" },
        { """{"assets":[{"reference_id":"a","\udc00xtrue_____":1,"owner_address":"0xabcdef0123456789abcdef0123456789abcdef01"}]}""", "/assets/0/(property name #1)" },
        { """{"\udc00xtrue":1,"assets":[{"reference_id":"a","owner_address":"0xabcdef0123456789abcdef0123456789abcdef01"}]}""", "/(property name #0)" },
        { """{"assets":[{"reference_id":"a","owner_address":"0xabcdef0123456789abcdef0123456789abcdef01","metadata":{"attributes":[{"trait_type":"t","value":"v","display_type":"\ud800"}]}}]}""", "/assets/0/metadata/attributes/0/display_type" },
    };

    [Theory]
    [MemberData(nameof(LoneSurrogates))]
    public async Task a_lone_surrogate_escape_anywhere_in_a_mint_body_is_a_400_naming_the_field(string body, string field)
    {
        var collection = body.Contains("\"amount\"", StringComparison.Ordinal) ? server.Erc1155 : server.Erc721;
        var response = await server.PostJsonAsync(collection, body.Replace("\"reference_id\":\"a\"", $"\"reference_id\":\"{Unique("s")}\"", StringComparison.Ordinal));
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "VALIDATION_ERROR", field);
    }

    [Fact]
    public async Task the_zero_address_as_owner_is_refused_at_intake()
    {
        var response = await server.PostAssetsAsync(server.Erc721, [Asset(Unique("zero"), owner: "0x0000000000000000000000000000000000000000")]);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "VALIDATION_ERROR", "/assets/0/owner_address");
    }

    [Fact]
    public async Task a_mint_by_quantity_on_a_mint_by_id_collection_is_refused_at_intake()
    {
        var collection = await CollectionAsync(CollectionKind.Erc721, PresetVariant.Erc721MintById);
        var refused = await server.PostAssetsAsync(collection, [Asset(Unique("byid"), tokenId: "5"), Asset(Unique("byid"))]);
        await AssertErrorAsync(refused, HttpStatusCode.BadRequest, "VALIDATION_ERROR", "/assets/1/token_id");
        // Ids at or above 2^128 are fine there: MintByID has no by-quantity range.
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(collection, [Asset(Unique("byid"), tokenId: TwoTo128)])).StatusCode);
    }

    [Theory]
    [InlineData(PresetVariant.Erc721V2)]
    [InlineData(PresetVariant.Erc721V1)]
    public async Task a_token_id_at_or_above_2_pow_128_is_refused_on_by_quantity_presets(PresetVariant variant)
    {
        var collection = await CollectionAsync(CollectionKind.Erc721, variant);
        foreach (var id in new[] { TwoTo128, MaxUint256 })
        {
            var refused = await server.PostAssetsAsync(collection, [Asset(Unique("big"), tokenId: "1"), Asset(Unique("big"), tokenId: id)]);
            await AssertErrorAsync(refused, HttpStatusCode.BadRequest, "VALIDATION_ERROR", "/assets/1/token_id");
        }
        var below = (System.Numerics.BigInteger.Parse(TwoTo128) - 1).ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(collection, [Asset(Unique("big"), tokenId: below)])).StatusCode);
    }

    [Fact]
    public async Task erc1155_amounts_that_overflow_uint256_alone_or_summed_per_token_id_are_refused()
    {
        var alone = await server.PostAssetsAsync(server.Erc1155, [Asset(Unique("amt"), tokenId: "7", amount: "1" + MaxUint256)]);
        await AssertErrorAsync(alone, HttpStatusCode.BadRequest, "VALIDATION_ERROR", "/assets/0/amount");

        var summed = await server.PostAssetsAsync(server.Erc1155,
            [Asset(Unique("amt"), tokenId: "7", amount: MaxUint256), Asset(Unique("amt"), tokenId: "8", amount: "5"), Asset(Unique("amt"), tokenId: "7", amount: "1")]);
        await AssertErrorAsync(summed, HttpStatusCode.BadRequest, "VALIDATION_ERROR", "/assets/2/amount");

        var fits = await server.PostAssetsAsync(server.Erc1155,
            [Asset(Unique("amt"), tokenId: "9", amount: (System.Numerics.BigInteger.Parse(MaxUint256) - 1).ToString()), Asset(Unique("amt"), tokenId: "9", amount: "1")]);
        Assert.Equal(HttpStatusCode.Accepted, fits.StatusCode);
    }

    [Theory]
    [InlineData("a\u0000b")]
    [InlineData("\u0007bell")]
    [InlineData("tab\there")]
    [InlineData("del\u007f")]
    [InlineData("c1\u0085")]
    public async Task a_reference_id_with_control_characters_is_refused_at_intake(string referenceId)
    {
        var response = await server.PostAssetsAsync(server.Erc721, [Asset(referenceId + Guid.NewGuid().ToString("N"))]);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "VALIDATION_ERROR", "/assets/0/reference_id");
    }

    [Fact]
    public async Task a_missing_key_keeps_the_wire_message_and_says_why_in_details()
    {
        var missing = await server.SendAsync(HttpMethod.Get, MintPath(server.Erc721), null);
        var body = await AssertErrorAsync(missing, HttpStatusCode.Unauthorized, "UNAUTHORISED_REQUEST");
        Assert.Equal("security requirements failed: API key is invalid", (string?)body["message"]);
        Assert.Contains("x-immutable-api-key header is missing", body["details"]!.ToJsonString(), StringComparison.Ordinal);

        var wrong = await server.SendAsync(HttpMethod.Get, MintPath(server.Erc721), "sk_om_not-a-key");
        var wrongBody = await AssertErrorAsync(wrong, HttpStatusCode.Unauthorized, "UNAUTHORISED_REQUEST");
        Assert.DoesNotContain("missing", wrongBody["details"]?.ToJsonString() ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task minting_disabled_keeps_not_sponsored_and_says_how_to_enable_it()
    {
        var response = await server.PostAssetsAsync(server.Disabled, [Asset(Unique("off"))]);
        var body = await AssertErrorAsync(response, HttpStatusCode.Forbidden, "AUTHENTICATION_ERROR");
        Assert.Equal("API Key is not sponsored", (string?)body["message"]);
        var details = body["details"]!.ToJsonString();
        Assert.Contains("minting is disabled for this collection in OpenMint", details, StringComparison.Ordinal);
        Assert.Contains("openmint collection update", details, StringComparison.Ordinal);
        Assert.Contains("--minting-enabled true", details, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\v")]
    [InlineData("\f")]
    [InlineData("\u00a0")]
    [InlineData("\u3000")]
    public async Task a_key_wrapped_in_other_characters_is_not_the_key(string wrap)
    {
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(server.BaseUrl) };
        using var request = new HttpRequestMessage(HttpMethod.Get, MintPath(server.Erc721));
        request.Headers.TryAddWithoutValidation("x-immutable-api-key", wrap + server.Key + wrap);
        var response = await http.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest,
            $"a key wrapped in U+{(int)wrap[0]:X4} answered {(int)response.StatusCode}");
    }

    [Fact]
    public async Task a_post_to_a_path_whose_parameter_cannot_name_a_resource_is_404_and_one_that_can_is_405_with_allow()
    {
        var typo = await server.SendAsync(HttpMethod.Post, $"/v1/chains/{ChainName}/collections/{server.Erc721}/nfts/mint-request", server.Key, new StringContent("{}", Encoding.UTF8, "application/json"));
        await AssertErrorAsync(typo, HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");

        foreach (var path in new[] { $"/v1/chains/{ChainName}/collections/{server.Erc721}/nfts/1", $"{MintPath(server.Erc721)}/some-ref" })
        {
            var post = await server.SendAsync(HttpMethod.Post, path, server.Key, new StringContent("{}", Encoding.UTF8, "application/json"));
            await AssertErrorAsync(post, HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED");
            Assert.Contains("GET", post.Content.Headers.Allow);
        }
        var refresh = await server.SendAsync(HttpMethod.Post, $"/v1/metadata-refreshes/{Guid.NewGuid()}", null, new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, refresh.StatusCode);
        Assert.Contains("GET", refresh.Content.Headers.Allow);
        var refreshBody = JsonNode.Parse(await refresh.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("method_not_allowed", (string?)refreshBody["code"]);
    }
}
