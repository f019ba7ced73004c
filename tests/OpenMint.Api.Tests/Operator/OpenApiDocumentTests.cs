using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api.Tests.Pipeline;
using OpenMint.Api.Tests.Refresh;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Operator;

/// <summary>/openapi/v1.json describes every mapped route, and live answers of each endpoint match its schemas.</summary>
public class OpenApiDocumentTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private const string MintRequests = "/v1/chains/{chain_name}/collections/{contract_address}/nfts/mint-requests";

    [Fact]
    public async Task every_mapped_route_is_in_the_document_with_its_answers()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment);
        var document = await DocumentAsync(server.Http);
        var paths = document["paths"]!.AsObject();
        var routes = server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>() is not null && !e.RoutePattern.RawText!.StartsWith("/openapi/", StringComparison.Ordinal)
                && e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (Path: "/" + e.RoutePattern.RawText!.Trim('/'), Method: m.ToLowerInvariant())))
            .ToList();
        Assert.True(routes.Count >= 12, $"only {routes.Count} routes found");
        foreach (var (path, method) in routes)
        {
            var operation = paths[path]?[method];
            Assert.True(operation is not null, $"{method.ToUpperInvariant()} {path} is not in the document");
            var responses = operation["responses"]!.AsObject();
            Assert.NotEmpty(responses);
            foreach (var (status, response) in responses)
            {
                Assert.True(response!["content"] is JsonObject content && content.Count > 0, $"{method} {path} {status} has no content");
            }
        }
        Assert.NotNull(paths[MintRequests]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]);
        Assert.NotNull(paths["/v1/metadata-refreshes"]!["post"]!["requestBody"]);
        Assert.NotNull(paths[MintRequests]!["post"]!["responses"]!["409"]);
    }

    [Fact]
    public async Task live_answers_of_the_minting_assets_and_health_endpoints_match_their_schemas()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment);
        var document = await DocumentAsync(server.Http);
        var check = new LiveCheck(document, server.Http);
        var address = server.Address("erc721");
        var basePath = $"/v1/chains/anvil/collections/{address}/nfts/mint-requests";
        var run = Guid.NewGuid().ToString("N")[..8];
        var create = new JsonObject { ["assets"] = new JsonArray(PipelineServer.Asset(run, "0x1000000000000000000000000000000000000001", metadata: new JsonObject { ["name"] = run })) };

        await check.SendAsync(HttpMethod.Post, basePath, MintRequests, 202, create);
        await check.SendAsync(HttpMethod.Post, basePath, MintRequests, 400, new JsonObject { ["assets"] = new JsonArray() });
        await check.SendAsync(HttpMethod.Post, basePath, MintRequests, 409, create);
        var minted = await server.WaitAsync("erc721", run);
        Assert.Equal("succeeded", (string?)minted["status"]);
        await check.SendAsync(HttpMethod.Get, basePath, MintRequests, 200);
        await check.SendAsync(HttpMethod.Get, basePath + "?page_size=0", MintRequests, 400);
        await check.SendAsync(HttpMethod.Get, $"{basePath}/{run}", MintRequests + "/{reference_id}", 200);
        await check.SendAsync(HttpMethod.Get, $"{basePath}/missing-{run}", MintRequests + "/{reference_id}", 404);
        var asset = "/v1/chains/{chain_name}/collections/{contract_address}/nfts/{token_id}";
        await check.SendAsync(HttpMethod.Get, $"/v1/chains/anvil/collections/{address}/nfts/{(string?)minted["token_id"]}", asset, 200);
        await check.SendAsync(HttpMethod.Get, $"/v1/chains/anvil/collections/{address}/nfts/999999999", asset, 404);
        await check.SendAsync(HttpMethod.Get, "/v1/events", "/v1/events", 200);
        await check.SendAsync(HttpMethod.Get, "/v1/events?page_size=0", "/v1/events", 400);
        await check.SendAsync(HttpMethod.Get, "/health", "/health", 200);
        await check.SendAsync(HttpMethod.Get, "/healthz", "/healthz", 200);
        await check.SendAsync(HttpMethod.Get, "/readyz", "/readyz", 200);
        using (var metrics = await server.Http.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.NotNull(document["paths"]!["/metrics"]!["get"]!["responses"]!["200"]!["content"]!["text/plain"]);
        }
        check.AssertEverySuccessChecked(MintRequests, MintRequests + "/{reference_id}", asset, "/v1/events", "/health", "/healthz", "/readyz");
    }

    [Fact]
    public async Task live_answers_of_the_refresh_endpoints_match_their_schemas()
    {
        await using var host = await RefreshTestHost.StartAsync(new Dictionary<string, string?> { ["Refresh:AllowLoopback"] = "true" });
        var project = await host.AddProjectAsync();
        var collection = await host.AddCollectionAsync(project, "http://127.0.0.1:9/");
        await host.AddTokensAsync(collection, ["1", "2"]);
        var document = await DocumentAsync(host.Http, host.BaseAddress);
        var check = new LiveCheck(document, host.Http, host.Signed, host.BaseAddress);
        const string refreshes = "/v1/metadata-refreshes";

        var created = await check.SendAsync(HttpMethod.Post, refreshes, refreshes, 202, new JsonObject { ["collection_address"] = collection.Address, ["token_ids"] = new JsonArray("1", "2") });
        await check.SendAsync(HttpMethod.Post, refreshes, refreshes, 400, new JsonObject { ["collection_address"] = collection.Address, ["token_ids"] = new JsonArray("x") });
        var id = created.GetProperty("refresh_id").GetString()!;
        await host.WaitCompletedAsync(id, 2);
        await check.SendAsync(HttpMethod.Get, refreshes, refreshes, 200);
        await check.SendAsync(HttpMethod.Get, $"{refreshes}/{id}", refreshes + "/{refreshId}", 200);
        await check.SendAsync(HttpMethod.Get, $"{refreshes}/{Guid.NewGuid()}", refreshes + "/{refreshId}", 404);
        var errors = await check.SendAsync(HttpMethod.Get, $"{refreshes}/{id}/errors", refreshes + "/{refreshId}/errors", 200);
        Assert.Equal(2, errors.GetProperty("result").GetArrayLength());
        await check.SendAsync(HttpMethod.Get, refreshes, refreshes, 401, signed: false);
        var metrics = HealthAndMetricsTests.Parse(await host.Http.GetStringAsync(new Uri(host.BaseAddress, "/metrics")));
        Assert.True(metrics.Where(m => m.Name == "openmint_refresh_tokens_total" && m.Labels.GetValueOrDefault("outcome") == "failed").Sum(m => m.Value) >= 2);
        check.AssertEverySuccessChecked(refreshes, refreshes + "/{refreshId}", refreshes + "/{refreshId}/errors");
    }

    private static async Task<JsonNode> DocumentAsync(HttpClient http, Uri? baseAddress = null)
    {
        using var response = await http.GetAsync(baseAddress is null ? new Uri("/openapi/v1.json", UriKind.Relative) : new Uri(baseAddress, "/openapi/v1.json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.StartsWith("3.", (string?)document["openapi"]);
        return document;
    }

    /// <summary>Sends a request, checks its status, and validates the body against the document's schema for that route and status.</summary>
    private sealed class LiveCheck(JsonNode document, HttpClient http, Func<HttpMethod, string, string, long?, object?, HttpRequestMessage>? sign = null, Uri? baseAddress = null)
    {
        private readonly HashSet<(string Route, int Status)> _checked = [];

        public async Task<JsonElement> SendAsync(HttpMethod method, string path, string route, int status, JsonNode? body = null, bool signed = true)
        {
            using var request = sign is not null && signed
                ? sign(method, path, RefreshTestHost.OwnerKeyHex, null, null)
                : new HttpRequestMessage(method, baseAddress is null ? new Uri(path, UriKind.Relative) : new Uri(baseAddress, path));
            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            }
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == status, $"{method} {path}: expected {status}, got {(int)response.StatusCode} {text}");
            var schema = document["paths"]![route]?[method.Method.ToLowerInvariant()]?["responses"]?[status.ToString(System.Globalization.CultureInfo.InvariantCulture)]?["content"]?["application/json"]?["schema"];
            Assert.True(schema is not null, $"{method} {route} has no schema for {status}");
            var value = JsonDocument.Parse(text).RootElement.Clone();
            var problems = OpenApiSchema.Check(document, schema, value);
            Assert.True(problems.Count == 0, $"{method} {path} {status} does not match its schema: {string.Join("; ", problems)}\n{text}");
            _checked.Add((route, status));
            return value;
        }

        public void AssertEverySuccessChecked(params string[] routes)
        {
            foreach (var route in routes)
            {
                Assert.True(_checked.Any(c => c.Route == route && c.Status is >= 200 and < 300), $"no live 2xx checked for {route}");
            }
        }
    }
}
