using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using static OpenMint.Api.Tests.Minting.MintingServerFixture;

namespace OpenMint.Api.Tests.Minting;

public sealed class MintRequestsApiTests(MintingServerFixture server) : IClassFixture<MintingServerFixture>
{
    private static async Task<JsonObject> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code, string? message = null, string? messageStart = null, string? messageContains = null)
    {
        var body = await JsonAsync(response);
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {body.ToJsonString()}");
        Assert.Equal(code, (string?)body["code"]);
        foreach (var key in new[] { "code", "message", "details", "link", "trace_id" })
        {
            Assert.True(body.ContainsKey(key), $"error body lacks {key}: {body.ToJsonString()}");
        }
        var actual = (string)body["message"]!;
        if (message is not null)
        {
            Assert.Equal(message, actual);
        }
        if (messageStart is not null)
        {
            Assert.StartsWith(messageStart, actual, StringComparison.Ordinal);
        }
        if (messageContains is not null)
        {
            Assert.Contains(messageContains, actual, StringComparison.Ordinal);
        }
        return body;
    }

    private async Task<long> CountRequestsAsync(string address, string? referenceLike = null)
    {
        await using var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        return await c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM mint_request m JOIN collection c ON c.id = m.collection_id WHERE c.address = @address AND (@like IS NULL OR m.reference_id LIKE @like)",
            new { address = address.ToLowerInvariant(), like = referenceLike });
    }

    [Fact]
    public async Task create_returns_202_with_the_four_limit_fields_and_headers()
    {
        var response = await server.PostAssetsAsync(server.Erc721, [Asset(Unique("ok")), Asset(Unique("ok"), tokenId: Random.Shared.NextInt64(1, long.MaxValue).ToString())]);
        var body = await JsonAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(["imx_mint_requests_limit", "imx_mint_requests_limit_reset", "imx_remaining_mint_requests", "imx_mint_requests_retry_after"], body.Select(p => p.Key).ToArray());
        Assert.Equal("100000", (string?)body["imx_mint_requests_limit"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$", (string?)body["imx_mint_requests_limit_reset"]);
        Assert.Matches(@"^\d+\.\d\d-seconds$", (string?)body["imx_mint_requests_retry_after"]);
        Assert.True(long.Parse((string)body["imx_remaining_mint_requests"]!) <= 99_998);
        Assert.Equal((string?)body["imx_mint_requests_limit"], response.Headers.GetValues("imx-mint-requests-limit").Single());
        Assert.Equal((string?)body["imx_mint_requests_limit_reset"], response.Headers.GetValues("imx-mint-requests-limit-reset").Single());
        Assert.Equal((string?)body["imx_remaining_mint_requests"], response.Headers.GetValues("imx-remaining-mint-requests").Single());
        Assert.Equal((string?)body["imx_mint_requests_retry_after"], response.Headers.GetValues("imx-mint-requests-retry-after").Single());
    }

    [Fact]
    public async Task an_accepted_request_reads_back_pending_with_the_contract_shape()
    {
        var reference = Unique("shape");
        var response = await server.PostAssetsAsync(server.Erc1155, [Asset(reference, tokenId: "000123", amount: "0005", owner: "0xABCDEF0123456789ABCDEF0123456789ABCDEF01")]);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var get = await server.SendAsync(HttpMethod.Get, $"{MintPath(server.Erc1155)}/{reference}", server.Key);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var body = await JsonAsync(get);
        Assert.Null(body["page"]!["previous_cursor"]);
        Assert.Null(body["page"]!["next_cursor"]);
        var r = body["result"]!.AsArray().Single()!.AsObject();
        Assert.Equal(["chain", "collection_address", "reference_id", "owner_address", "token_id", "amount", "activity_id", "transaction_hash", "status", "error", "created_at", "updated_at"], r.Select(p => p.Key).ToArray());
        Assert.Equal($"eip155:{ChainId}", (string?)r["chain"]!["id"]);
        Assert.Equal(ChainName, (string?)r["chain"]!["name"]);
        Assert.Equal(server.Erc1155.ToLowerInvariant(), (string?)r["collection_address"]);
        Assert.Equal(reference, (string?)r["reference_id"]);
        Assert.Equal("0xabcdef0123456789abcdef0123456789abcdef01", (string?)r["owner_address"]);
        Assert.Equal("123", (string?)r["token_id"]);
        Assert.Equal("5", (string?)r["amount"]);
        Assert.Null(r["activity_id"]);
        Assert.Null(r["transaction_hash"]);
        Assert.Equal("pending", (string?)r["status"]);
        Assert.Null(r["error"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", (string?)r["created_at"]);
        Assert.Equal((string?)r["created_at"], (string?)r["updated_at"]);
    }

    [Fact]
    public async Task every_accepted_asset_is_stored_pending_with_one_mint_event_in_the_same_write()
    {
        var prefix = Unique("evt");
        var response = await server.PostAssetsAsync(server.Erc721, [Asset(prefix + "-a"), Asset(prefix + "-b"), Asset(prefix + "-c")]);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await using var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        var rows = (await c.QueryAsync<(long Id, string Status, long ByQuantity)>(
            "SELECT id, status, by_quantity FROM mint_request WHERE reference_id LIKE @p ORDER BY id", new { p = prefix + "%" })).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal("pending", r.Status));
        Assert.All(rows, r => Assert.Equal(1, r.ByQuantity));
        var events = await server.Store.Events.ReadMintEventsAsync(0, int.MaxValue, CancellationToken.None);
        foreach (var row in rows)
        {
            var payload = events.Single(e => e.MintRequestId == row.Id && e.Status == MintStatus.Pending).Payload;
            var json = JsonNode.Parse(payload)!;
            Assert.Equal("imtbl_zkevm_mint_request_updated", (string?)json["event_name"]);
            Assert.Equal("pending", (string?)json["data"]!["status"]);
        }
    }

    [Fact]
    public async Task list_is_newest_first_and_its_cursors_are_stable_under_inserts()
    {
        var address = await server.NewCollectionAsync(server.Project.Id, CollectionKind.Erc721);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset($"r{i * 2}"), Asset($"r{i * 2 + 1}")])).StatusCode);
        }
        var first = await JsonAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?page_size=4", server.Key));
        Assert.Equal(["r9", "r8", "r7", "r6"], first["result"]!.AsArray().Select(r => (string)r!["reference_id"]!).ToArray());
        Assert.Null(first["page"]!["previous_cursor"]);
        var next = (string)first["page"]!["next_cursor"]!;

        // New requests arrive between pages: the next page still continues exactly where the first ended.
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("late-1"), Asset("late-2")])).StatusCode);
        var second = await JsonAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?page_size=4&page_cursor=" + Uri.EscapeDataString(next), server.Key));
        Assert.Equal(["r5", "r4", "r3", "r2"], second["result"]!.AsArray().Select(r => (string)r!["reference_id"]!).ToArray());
        var third = await JsonAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?page_size=4&page_cursor=" + Uri.EscapeDataString((string)second["page"]!["next_cursor"]!), server.Key));
        Assert.Equal(["r1", "r0"], third["result"]!.AsArray().Select(r => (string)r!["reference_id"]!).ToArray());
        Assert.Null(third["page"]!["next_cursor"]);

        // Going back from the second page gives the rows just newer than it, including nothing of the late inserts that belong before r9.
        var back = await JsonAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?page_size=4&page_cursor=" + Uri.EscapeDataString((string)second["page"]!["previous_cursor"]!), server.Key));
        Assert.Equal(["r9", "r8", "r7", "r6"], back["result"]!.AsArray().Select(r => (string)r!["reference_id"]!).ToArray());
        Assert.NotNull(back["page"]!["previous_cursor"]);

        var all = await JsonAsync(await server.SendAsync(HttpMethod.Get, MintPath(address), server.Key));
        Assert.Equal(12, all["result"]!.AsArray().Count);
        Assert.Equal("late-2", (string?)all["result"]![0]!["reference_id"]);
    }

    [Fact]
    public async Task list_filters_by_status_and_rejects_bad_query_values()
    {
        var address = await server.NewCollectionAsync(server.Project.Id, CollectionKind.Erc721);
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("s1"), Asset("s2")])).StatusCode);
        await using (var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None))
        {
            await c.ExecuteAsync("UPDATE mint_request SET status = 'failed', error_message = 'boom' WHERE reference_id = 's1' AND collection_id = (SELECT id FROM collection WHERE address = @a)", new { a = address.ToLowerInvariant() });
        }
        var failed = await JsonAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?status=failed", server.Key));
        var only = Assert.Single(failed["result"]!.AsArray())!;
        Assert.Equal("s1", (string?)only["reference_id"]);
        Assert.Equal("boom", (string?)only["error"]!["message"]);
        var pending = await JsonAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?status=pending", server.Key));
        Assert.Equal("s2", (string?)Assert.Single(pending["result"]!.AsArray())!["reference_id"]);

        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?page_size=0", server.Key), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageStart: "page_size");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?page_size=201", server.Key), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageStart: "page_size");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?page_size=abc", server.Key), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageStart: "page_size");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?status=done", server.Key), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageStart: "status");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath(address) + "?page_cursor=%21%21garbage", server.Key), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageStart: "page_cursor");
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Get, MintPath(address) + "?page_size=200&status=&page_cursor=", server.Key)).StatusCode);
    }

    [Theory]
    [InlineData("ref 1/x")]
    [InlineData("a%20b")]
    [InlineData("ünïcødé?&#=+")]
    public async Task url_encoded_reference_ids_are_decoded_once_including_slashes(string reference)
    {
        var unique = reference + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(server.Erc721, [Asset(unique)])).StatusCode);
        var response = await server.SendAsync(HttpMethod.Get, $"{MintPath(server.Erc721)}/{Uri.EscapeDataString(unique)}", server.Key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(unique, (string?)(await JsonAsync(response))["result"]![0]!["reference_id"]);
    }

    [Fact]
    public async Task more_than_100_assets_are_rejected_and_none_is_stored()
    {
        var prefix = Unique("many");
        var assets = new JsonArray(Enumerable.Range(0, 101).Select(i => (JsonNode)Asset($"{prefix}-{i}")).ToArray());
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc721, assets), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageContains: "/assets: maximum number of items is 100");
        Assert.Equal(0, await CountRequestsAsync(server.Erc721, prefix + "%"));
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc721, []), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageContains: "/assets: minimum number of items is 1");
    }

    [Fact]
    public async Task exactly_100_assets_are_accepted()
    {
        var prefix = Unique("hundred");
        var assets = new JsonArray(Enumerable.Range(0, 100).Select(i => (JsonNode)Asset($"{prefix}-{i}")).ToArray());
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(server.Erc721, assets)).StatusCode);
        Assert.Equal(100, await CountRequestsAsync(server.Erc721, prefix + "%"));
    }

    [Fact]
    public async Task a_reference_id_repeated_inside_the_request_is_rejected()
    {
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc721, [Asset("109"), Asset("x" + Guid.NewGuid()), Asset("109")]),
            HttpStatusCode.BadRequest, "VALIDATION_ERROR", "duplicated reference id: 109");
    }

    [Fact]
    public async Task a_token_id_repeated_inside_an_erc721_request_is_rejected_but_allowed_on_erc1155()
    {
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc721, [Asset(Unique("a"), tokenId: "109"), Asset(Unique("b"), tokenId: "0109")]),
            HttpStatusCode.BadRequest, "VALIDATION_ERROR", "duplicated token id: 109");
        var id = Random.Shared.NextInt64(1, long.MaxValue).ToString();
        var ok = await server.PostAssetsAsync(server.Erc1155, [Asset(Unique("a"), tokenId: id, amount: "1"), Asset(Unique("b"), tokenId: id, amount: "2")]);
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
    }

    [Fact]
    public async Task erc721_amount_other_than_1_is_rejected_and_1_is_accepted()
    {
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc721, [Asset(Unique("amt"), amount: "2")]),
            HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageStart: "amount is only relevant for ERC1155 collections");
        var reference = Unique("amt1");
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(server.Erc721, [Asset(reference, amount: "1")])).StatusCode);
        var r = (await JsonAsync(await server.SendAsync(HttpMethod.Get, $"{MintPath(server.Erc721)}/{reference}", server.Key)))["result"]![0]!;
        Assert.Null(r["amount"]);
        Assert.Null(r["token_id"]);
    }

    [Fact]
    public async Task erc1155_requires_a_token_id_and_an_amount_above_zero()
    {
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc1155, [Asset(Unique("e"), amount: "1")]), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageContains: "token_id");
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc1155, [Asset(Unique("e"), tokenId: "1")]), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageContains: "amount");
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc1155, [Asset(Unique("e"), tokenId: "1", amount: "000")]), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageContains: "amount must be greater than 0");
    }

    [Theory]
    [InlineData("{\"assets\": [", "not valid JSON")]
    [InlineData("", "not valid JSON")]
    [InlineData("[]", "value must be an object")]
    [InlineData("{}", "/assets")]
    [InlineData("{\"assets\": {}}", "/assets: value must be an array")]
    [InlineData("{\"assets\": [1]}", "/assets/0: value must be an object")]
    [InlineData("{\"assets\": [{\"reference_id\": 5, \"owner_address\": \"0x0000000000000000000000000000000000000001\"}]}", "/assets/0/reference_id: value must be a string")]
    [InlineData("{\"assets\": [{\"owner_address\": \"0x0000000000000000000000000000000000000001\"}]}", "/assets/0/reference_id")]
    [InlineData("{\"assets\": [{\"reference_id\": \"\", \"owner_address\": \"0x0000000000000000000000000000000000000001\"}]}", "/assets/0/reference_id: length")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0xZZ00000000000000000000000000000000000001\"}]}", "/assets/0/owner_address")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0x00000000000000000000000000000000000001\"}]}", "/assets/0/owner_address")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"token_id\": 5}]}", "/assets/0/token_id: value must be a string")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"token_id\": \"-1\"}]}", "/assets/0/token_id")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"token_id\": \"1e3\"}]}", "/assets/0/token_id")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"token_id\": \"115792089237316195423570985008687907853269984665640564039457584007913129639936\"}]}", "/assets/0/token_id")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"metadata\": \"x\"}]}", "/assets/0/metadata: value must be an object")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"metadata\": {\"name\": 5}}]}", "/assets/0/metadata/name")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"metadata\": {\"attributes\": {}}}]}", "/assets/0/metadata/attributes")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"metadata\": {\"attributes\": [{\"trait_type\": \"a\", \"value\": {}}]}}]}", "/assets/0/metadata/attributes/0/value")]
    [InlineData("{\"assets\": [{\"reference_id\": \"r\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"metadata\": {\"attributes\": [{\"trait_type\": \"a\", \"value\": 1, \"display_type\": \"big\"}]}}]}", "/assets/0/metadata/attributes/0/display_type")]
    public async Task bad_bodies_get_a_400_that_names_the_problem(string body, string expected)
    {
        await AssertErrorAsync(await server.PostJsonAsync(server.Erc721, body), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageContains: expected);
    }

    [Fact]
    public async Task uint256_max_is_accepted_and_leading_zeros_are_stripped()
    {
        var reference = Unique("max");
        var max = "000" + OpenMint.Chain.Uint256.MaxDecimal;
        // On ERC1155: an ERC721 V1/V2 preset takes ids below 2^128 only (from there on it mints by quantity).
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(server.Erc1155, [Asset(reference, tokenId: max, amount: "1")])).StatusCode);
        var r = (await JsonAsync(await server.SendAsync(HttpMethod.Get, $"{MintPath(server.Erc1155)}/{reference}", server.Key)))["result"]![0]!;
        Assert.Equal(OpenMint.Chain.Uint256.MaxDecimal, (string?)r["token_id"]);
    }

    [Fact]
    public async Task invalid_utf8_is_a_400()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"assets\": [{\"reference_id\": \"r\uFFFF\", \"owner_address\": \"0x0000000000000000000000000000000000000001\"}]}");
        var at = Array.IndexOf(bytes, (byte)0xEF);
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;
        await AssertErrorAsync(await server.PostBytesAsync(server.Erc721, bytes), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageContains: "UTF-8");
    }

    [Fact]
    public async Task a_10_mb_body_is_a_400_not_a_500()
    {
        var big = new byte[10 * 1024 * 1024];
        Array.Fill(big, (byte)' ');
        await AssertErrorAsync(await server.PostBytesAsync(server.Erc721, big), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageContains: "request body is larger than");
    }

    [Fact]
    public async Task a_10_mb_chunked_body_is_a_400_not_a_500()
    {
        var big = new byte[10 * 1024 * 1024];
        Array.Fill(big, (byte)' ');
        var content = new StreamContent(new MemoryStream(big));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, MintPath(server.Erc721)) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.TryAddWithoutValidation("x-immutable-api-key", server.Key);
        await AssertErrorAsync(await server.Http.SendAsync(request), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageContains: "request body is larger than");
    }

    [Fact]
    public async Task metadata_over_16_kib_is_rejected_and_up_to_it_accepted()
    {
        var over = new JsonObject { ["description"] = new string('d', 16 * 1024) };
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc721, [Asset(Unique("m"), metadata: over)]), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageContains: "/assets/0/metadata");
        var fits = new JsonObject { ["description"] = new string('d', 16 * 1024 - 20) };
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(server.Erc721, [Asset(Unique("m"), metadata: fits)])).StatusCode);
    }

    [Fact]
    public async Task full_metadata_with_nulls_and_omitted_keys_is_accepted()
    {
        var metadata = JsonNode.Parse("""
            {"name": "N", "description": null, "image": "https://x/1.png", "external_url": null, "animation_url": null, "youtube_url": null,
             "attributes": [{"trait_type": "a", "value": "s"}, {"trait_type": "b", "value": 1.5, "display_type": "number"}, {"trait_type": "c", "value": true, "display_type": null}]}
            """);
        var withAll = JsonNode.Parse($"{{\"reference_id\": \"{Unique("full")}\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"token_id\": null, \"amount\": null}}")!.AsObject();
        withAll["metadata"] = metadata;
        var withNull = JsonNode.Parse($"{{\"reference_id\": \"{Unique("full")}\", \"owner_address\": \"0x0000000000000000000000000000000000000001\", \"metadata\": null}}")!;
        var body = new JsonObject { ["assets"] = new JsonArray(withAll, withNull) }.ToJsonString();
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostJsonAsync(server.Erc721, body)).StatusCode);
    }

    [Fact]
    public async Task a_pending_reference_id_conflicts_with_details_and_nothing_of_the_request_is_stored()
    {
        var taken = Unique("taken");
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(server.Erc721, [Asset(taken)])).StatusCode);
        var fresh = Unique("fresh");
        var body = await AssertErrorAsync(await server.PostAssetsAsync(server.Erc721, [Asset(fresh), Asset(taken)]),
            HttpStatusCode.Conflict, "CONFLICT_ERROR", $"there are already mint requests for reference_ids: {taken}");
        Assert.Equal("reference_id", (string?)body["details"]!["id"]);
        Assert.Equal([taken], body["details"]!["values"]!.AsArray().Select(v => (string)v!).ToArray());
        Assert.Equal(0, await CountRequestsAsync(server.Erc721, fresh));
    }

    [Fact]
    public async Task a_succeeded_reference_id_conflicts_too()
    {
        var address = await server.NewCollectionAsync(server.Project.Id, CollectionKind.Erc721);
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("109")])).StatusCode);
        await SetStatusAsync(address, "109", "succeeded");
        var body = await AssertErrorAsync(await server.PostAssetsAsync(address, [Asset("109")]), HttpStatusCode.Conflict, "CONFLICT_ERROR", "there are already mint requests for reference_ids: 109");
        Assert.Equal("{\"id\":\"reference_id\",\"values\":[\"109\"]}", body["details"]!.ToJsonString());
    }

    [Fact]
    public async Task a_failed_reference_id_may_be_submitted_again_and_replaces_the_failed_record()
    {
        var address = await server.NewCollectionAsync(server.Project.Id, CollectionKind.Erc721);
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("again", tokenId: "7")])).StatusCode);
        await SetStatusAsync(address, "again", "failed");
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("again", tokenId: "7", owner: "0x00000000000000000000000000000000000000ff")])).StatusCode);
        var body = await JsonAsync(await server.SendAsync(HttpMethod.Get, MintPath(address), server.Key));
        var r = Assert.Single(body["result"]!.AsArray())!;
        Assert.Equal("pending", (string?)r["status"]);
        Assert.Null(r["error"]);
        Assert.Equal("0x00000000000000000000000000000000000000ff", (string?)r["owner_address"]);
    }

    [Fact]
    public async Task an_erc721_token_id_pending_or_minted_conflicts()
    {
        var address = await server.NewCollectionAsync(server.Project.Id, CollectionKind.Erc721);
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("p", tokenId: "109")])).StatusCode);
        var pending = await AssertErrorAsync(await server.PostAssetsAsync(address, [Asset("q", tokenId: "110"), Asset("r", tokenId: "0109")]),
            HttpStatusCode.Conflict, "CONFLICT_ERROR", "there are already mint requests for token_ids: 109");
        Assert.Equal("{\"id\":\"token_id\",\"values\":[\"109\"]}", pending["details"]!.ToJsonString());

        await SetStatusAsync(address, "p", "succeeded");
        await AssertErrorAsync(await server.PostAssetsAsync(address, [Asset("s", tokenId: "109")]), HttpStatusCode.Conflict, "CONFLICT_ERROR", "token_ids already minted: 109");

        await InsertTokenAsync(address, "500", null);
        await AssertErrorAsync(await server.PostAssetsAsync(address, [Asset("t", tokenId: "500")]), HttpStatusCode.Conflict, "CONFLICT_ERROR", "token_ids already minted: 500");

        // A failed request does not hold its token id.
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("u", tokenId: "600")])).StatusCode);
        await SetStatusAsync(address, "u", "failed");
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("v", tokenId: "600")])).StatusCode);
    }

    [Fact]
    public async Task metadata_on_an_existing_erc1155_id_conflicts_but_more_copies_without_metadata_are_fine()
    {
        var address = await server.NewCollectionAsync(server.Project.Id, CollectionKind.Erc1155);
        await InsertTokenAsync(address, "109", "{\"name\":\"x\"}");
        await AssertErrorAsync(await server.PostAssetsAsync(address, [Asset("a", tokenId: "109", amount: "3", metadata: new JsonObject { ["name"] = "y" })]),
            HttpStatusCode.Conflict, "CONFLICT_ERROR", "token_ids already minted: 109, no metadata allowed");
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("b", tokenId: "109", amount: "3")])).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("c", tokenId: "109", amount: "1")])).StatusCode);
    }

    [Fact]
    public async Task a_missing_unknown_or_revoked_key_is_401()
    {
        const string Message = "security requirements failed: API key is invalid";
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Post, MintPath(server.Erc721), null, new StringContent("{}")), HttpStatusCode.Unauthorized, "UNAUTHORISED_REQUEST", Message);
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath(server.Erc721), "sk_om_not-a-real-key-at-all"), HttpStatusCode.Unauthorized, "UNAUTHORISED_REQUEST", Message);
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath(server.Erc721) + "/x", "short"), HttpStatusCode.Unauthorized, "UNAUTHORISED_REQUEST", Message);
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, $"/v1/chains/{ChainName}/collections/{server.Erc721}/nfts/1", null), HttpStatusCode.Unauthorized, "UNAUTHORISED_REQUEST", Message);

        var issued = await OpenMint.Api.Auth.ApiKeyIssuer.IssueAsync(server.Store.Tenancy, server.Project.Id, TimeProvider.System, CancellationToken.None);
        Assert.True(await server.Store.Tenancy.RevokeApiKeyAsync(issued.Key.Id, CancellationToken.None));
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc721, [Asset(Unique("rev"))], issued.Secret), HttpStatusCode.Unauthorized, "UNAUTHORISED_REQUEST", Message);
    }

    [Fact]
    public async Task a_key_of_another_project_is_403_on_every_call()
    {
        const string Message = "API Key is not allowed to access this collection";
        await AssertErrorAsync(await server.PostAssetsAsync(server.Erc721, [Asset(Unique("o"))], server.OtherProjectKey), HttpStatusCode.Forbidden, "AUTHENTICATION_ERROR", Message);
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath(server.Erc721), server.OtherProjectKey), HttpStatusCode.Forbidden, "AUTHENTICATION_ERROR", Message);
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath(server.Erc721) + "/x", server.OtherProjectKey), HttpStatusCode.Forbidden, "AUTHENTICATION_ERROR", Message);
        await AssertErrorAsync(await server.PostAssetsAsync(server.OtherProjectCollection, [Asset(Unique("o"))]), HttpStatusCode.Forbidden, "AUTHENTICATION_ERROR", Message);
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, $"/v1/chains/{ChainName}/collections/{server.Erc721}/nfts/1", server.OtherProjectKey), HttpStatusCode.Forbidden, "AUTHENTICATION_ERROR", Message);
    }

    [Fact]
    public async Task minting_disabled_is_403_not_sponsored_while_reads_still_work()
    {
        await AssertErrorAsync(await server.PostAssetsAsync(server.Disabled, [Asset(Unique("d"))]), HttpStatusCode.Forbidden, "AUTHENTICATION_ERROR", "API Key is not sponsored");
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Get, MintPath(server.Disabled), server.Key)).StatusCode);
    }

    [Fact]
    public async Task unknown_chain_collection_or_reference_id_is_404_and_a_bad_address_is_400()
    {
        await AssertErrorAsync(await server.PostAssetsAsync("0x" + new string('9', 40), [Asset(Unique("n"))]), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Post, MintPath(server.Erc721, "nochain"), server.Key, new StringContent("{}")), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath(server.Erc721) + "/never-seen", server.Key), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, MintPath("0x12345"), server.Key), HttpStatusCode.BadRequest, "VALIDATION_ERROR", messageStart: "contract_address");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, "/v1/nothing-here", server.Key), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task the_limit_counts_distinct_token_ids_and_answers_429_with_headers_and_retry_after()
    {
        var project = await server.NewProjectAsync(5);
        var key = await server.NewKeyAsync(project.Id);
        var erc1155 = await server.NewCollectionAsync(project.Id, CollectionKind.Erc1155);
        // Three copies of one id plus another id count 2.
        var first = await server.PostAssetsAsync(erc1155, [Asset("a", tokenId: "1", amount: "1"), Asset("b", tokenId: "1", amount: "5"), Asset("c", tokenId: "1", amount: "2"), Asset("d", tokenId: "2", amount: "1")], key);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var remaining = long.Parse((string)(await JsonAsync(first))["imx_remaining_mint_requests"]!);
        Assert.True(remaining is 3 or 5, $"remaining {remaining}"); // 5 when the minute rolled over in between

        var used = 5 - remaining;
        var assets = new JsonArray(Enumerable.Range(10, (int)remaining + 1).Select(i => (JsonNode)Asset($"x{i}", tokenId: i.ToString(), amount: "1")).ToArray());
        var refused = await server.PostAssetsAsync(erc1155, assets, key);
        if (refused.StatusCode == HttpStatusCode.Accepted)
        {
            return; // the window rolled over between the two calls; nothing to assert this time
        }
        var body = await AssertErrorAsync(refused, HttpStatusCode.TooManyRequests, "TOO_MANY_REQUESTS_ERROR", "Too many requests");
        Assert.Null(body["details"]);
        var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal("5", refused.Headers.GetValues("imx-mint-requests-limit").Single());
        Assert.Equal((5 - used).ToString(), refused.Headers.GetValues("imx-remaining-mint-requests").Single());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$", refused.Headers.GetValues("imx-mint-requests-limit-reset").Single());
        Assert.Matches(@"^\d+\.\d\d-seconds$", refused.Headers.GetValues("imx-mint-requests-retry-after").Single());
        Assert.Equal(0, await CountRequestsAsync(erc1155, "x%"));
    }

    [Fact]
    public async Task a_conflicting_request_does_not_use_up_the_limit()
    {
        var project = await server.NewProjectAsync(2);
        var key = await server.NewKeyAsync(project.Id);
        var address = await server.NewCollectionAsync(project.Id, CollectionKind.Erc721);
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAssetsAsync(address, [Asset("a")], key)).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Conflict, (await server.PostAssetsAsync(address, [Asset("a")], key)).StatusCode);
        }
        var last = await server.PostAssetsAsync(address, [Asset("b")], key);
        Assert.True(last.StatusCode is HttpStatusCode.Accepted, $"got {last.StatusCode}");
    }

    [Fact]
    public async Task junk_headers_from_the_typescript_client_are_ignored()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, MintPath(server.Erc721));
        request.Headers.TryAddWithoutValidation("x-immutable-api-key", server.Key);
        request.Headers.TryAddWithoutValidation("basepath", "http://elsewhere");
        request.Headers.TryAddWithoutValidation("headers", "[object Object]");
        request.Headers.TryAddWithoutValidation("sdkversion", "ts-immutable-sdk-2.24.8");
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(request)).StatusCode);
    }

    private async Task SetStatusAsync(string address, string reference, string status)
    {
        await using var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        var n = await c.ExecuteAsync("UPDATE mint_request SET status = @status, error_message = CASE WHEN @status = 'failed' THEN 'failed for the test' END WHERE reference_id = @reference AND collection_id = (SELECT id FROM collection WHERE address = @a)",
            new { status, reference, a = address.ToLowerInvariant() });
        Assert.Equal(1, n);
    }

    private async Task InsertTokenAsync(string address, string tokenId, string? metadata)
    {
        await using var c = await server.Store.Database.OpenConnectionAsync(CancellationToken.None);
        await c.ExecuteAsync("INSERT INTO token (collection_id, token_id, owner_address, metadata, metadata_synced_at, created_at, updated_at) SELECT id, @tokenId, '0x00000000000000000000000000000000000000aa', @metadata, NULL, @now, @now FROM collection WHERE address = @a",
            new { tokenId, metadata, now = OpenMint.Core.Time.ToWire(DateTimeOffset.UtcNow), a = address.ToLowerInvariant() });
    }
}
