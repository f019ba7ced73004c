using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using OpenMint.Core;
using static OpenMint.Api.Tests.Minting.MintingServerFixture;

namespace OpenMint.Api.Tests.Minting;

public sealed class AssetsApiTests(MintingServerFixture server) : IClassFixture<MintingServerFixture>
{
    private string AssetPath(string tokenId) => $"/v1/chains/{ChainName}/collections/{server.Erc721}/nfts/{tokenId}";

    [Fact]
    public async Task a_known_token_is_served_with_its_metadata_flat_on_result()
    {
        var now = DateTimeOffset.UtcNow;
        await using (var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None))
        {
            await c.ExecuteAsync("INSERT INTO token (collection_id, token_id, owner_address, metadata, metadata_synced_at, created_at, updated_at) SELECT id, '42', '0x00000000000000000000000000000000000000aa', @m, NULL, @now, @now FROM collection WHERE address = @a",
                new { m = "{\"name\":\"Sword\",\"image\":\"https://x/42.png\",\"attributes\":[{\"trait_type\":\"power\",\"value\":9}]}", now = Time.ToWire(now), a = server.Erc721.ToLowerInvariant() });
        }
        var response = await server.SendAsync(HttpMethod.Get, AssetPath("0042"), server.Key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await JsonAsync(response))["result"]!.AsObject();
        Assert.Equal(["chain", "contract_address", "token_id", "owner_address", "name", "description", "image", "external_url", "animation_url", "youtube_url", "attributes", "metadata_synced_at", "updated_at"],
            result.Select(p => p.Key).ToArray());
        Assert.Equal($"eip155:{ChainId}", (string?)result["chain"]!["id"]);
        Assert.Equal(server.Erc721.ToLowerInvariant(), (string?)result["contract_address"]);
        Assert.Equal("42", (string?)result["token_id"]);
        Assert.Equal("Sword", (string?)result["name"]);
        Assert.Null(result["description"]);
        Assert.Equal("https://x/42.png", (string?)result["image"]);
        Assert.Equal(9, (int)result["attributes"]![0]!["value"]!);
        Assert.Null(result["metadata_synced_at"]);
        Assert.Equal(Time.ToWire(now), (string?)result["updated_at"]);
    }

    [Fact]
    public async Task an_unknown_token_is_404_and_a_bad_token_id_is_400()
    {
        var missing = await server.SendAsync(HttpMethod.Get, AssetPath("999999"), server.Key);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("RESOURCE_NOT_FOUND", (string?)(await JsonAsync(missing))["code"]);
        var bad = await server.SendAsync(HttpMethod.Get, AssetPath("12abc"), server.Key);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("VALIDATION_ERROR", (string?)(await JsonAsync(bad))["code"]);
    }

    [Fact]
    public async Task a_pending_mint_is_not_yet_an_asset()
    {
        var response = await server.PostAssetsAsync(server.Erc721, [Asset(Unique("asset"), tokenId: "77777")]);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.SendAsync(HttpMethod.Get, AssetPath("77777"), server.Key)).StatusCode);
    }
}
