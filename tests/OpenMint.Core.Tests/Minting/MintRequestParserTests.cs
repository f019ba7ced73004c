using System.Text;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Tests.Minting;

/// <summary>The parser's single-asset shortcuts (no duplicate sets, one metadata writer per thread) give what the general path gives.</summary>
public sealed class MintRequestParserTests
{
    private const string Owner = "0x00000000000000000000000000000000000000b1";

    private static MintParseResult Parse(string json, CollectionKind kind = CollectionKind.Erc721, PresetVariant variant = PresetVariant.Erc721V2) =>
        MintRequestParser.Parse((ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(json), kind, variant);

    private static string Asset(string reference, string? tokenId = null, string? amount = null, string? metadata = null) =>
        $$"""{"reference_id":"{{reference}}","owner_address":"{{Owner}}"{{(tokenId is null ? "" : $",\"token_id\":\"{tokenId}\"")}}{{(amount is null ? "" : $",\"amount\":\"{amount}\"")}}{{(metadata is null ? "" : $",\"metadata\":{metadata}")}}}""";

    private static string Body(params string[] assets) => $$"""{"assets":[{{string.Join(",", assets)}}]}""";

    [Theory]
    [InlineData(null)]
    [InlineData("7")]
    public void a_single_asset_counts_one_unit_against_the_limit(string? tokenId)
    {
        var parsed = Parse(Body(Asset("a", tokenId)));
        Assert.Null(parsed.Error);
        Assert.Equal(1, parsed.RateUnits);
        Assert.Equal(tokenId, Assert.Single(parsed.Assets!).TokenId);
    }

    [Fact]
    public void several_assets_count_distinct_token_ids_and_each_by_quantity_asset()
    {
        var parsed = Parse(Body(Asset("a", "5", "1"), Asset("b", "5", "2"), Asset("c", "6", "1")), CollectionKind.Erc1155, PresetVariant.Erc1155);
        Assert.Null(parsed.Error);
        Assert.Equal(2, parsed.RateUnits);
        Assert.Equal(3, Parse(Body(Asset("a"), Asset("b"), Asset("c", "9"))).RateUnits);
    }

    [Fact]
    public void duplicates_across_assets_are_still_refused()
    {
        Assert.Equal("duplicated reference id: a", Parse(Body(Asset("a"), Asset("a"))).Error);
        Assert.Equal("duplicated token id: 3", Parse(Body(Asset("a", "3"), Asset("b", "3"))).Error);
    }

    [Fact]
    public void metadata_is_compacted_alike_on_every_request_a_thread_parses()
    {
        var large = "{\"name\": \"" + new string('x', 100_000) + "\"}";
        Assert.StartsWith("request body has an error: /assets/0/metadata: metadata is larger than", Parse(Body(Asset("big", metadata: large))).Error);
        var first = Parse(Body(Asset("a", metadata: "{ \"name\" : \"Sword\",\n \"attributes\": [ {\"trait_type\": \"power\", \"value\": 7} ] }")));
        var second = Parse(Body(Asset("b", metadata: "{\"image\":\"https://example.invalid/1.png\"}")));
        Assert.Equal("""{"name":"Sword","attributes":[{"trait_type":"power","value":7}]}""", Assert.Single(first.Assets!).MetadataJson);
        Assert.Equal("""{"image":"https://example.invalid/1.png"}""", Assert.Single(second.Assets!).MetadataJson);
    }

    [Fact]
    public void a_single_asset_is_checked_for_token_conflicts_as_in_a_larger_request()
    {
        var erc721 = new Collection(1, "c", "0x00000000000000000000000000000000000000c1", "p", CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, DateTimeOffset.UnixEpoch);
        var erc1155 = erc721 with { Kind = CollectionKind.Erc1155, Variant = PresetVariant.Erc1155 };
        static MintAsset One(string? tokenId, string? metadata) => new("r", Owner, tokenId, null, metadata);
        Assert.Equal(["4"], MintIntakePolicy.CheckedTokenIds(erc721, [One("4", null)]));
        Assert.Empty(MintIntakePolicy.CheckedTokenIds(erc721, [One(null, null)]));
        Assert.Empty(MintIntakePolicy.CheckedTokenIds(erc1155, [One("4", null)]));
        Assert.Equal(["4"], MintIntakePolicy.CheckedTokenIds(erc1155, [One("4", "{}")]));
        Assert.Equal(["4", "5"], MintIntakePolicy.CheckedTokenIds(erc721, [One("4", null), One("4", null), One("5", null)]));
    }
}
