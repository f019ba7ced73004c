using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using OpenMint.Api.Endpoints;
using OpenMint.Api.Telemetry;

namespace OpenMint.Api.OpenApi;

/// <summary>
/// <c>GET /openapi/v1.json</c>: every endpoint with its request body, answers and error shapes. The shapes of each
/// route are listed here, in one table (<see cref="Shapes"/>), so the endpoint files stay as they are.
/// </summary>
public static class ApiDocument
{
    private const string Json = "application/json";

    /// <summary>Per "METHOD route": the request body type (or null) and the answers by status.</summary>
    internal static readonly IReadOnlyDictionary<string, (Type? Body, (int Status, Type Type, string Description)[] Responses)> Shapes =
        new Dictionary<string, (Type?, (int, Type, string)[])>(StringComparer.Ordinal)
        {
            ["POST v1/chains/{chain_name}/collections/{contract_address}/nfts/mint-requests"] = (typeof(MintRequestsBody),
                [(202, typeof(MintAcceptedBody), "Accepted: every asset is durable"), .. MintErrorsFor(400, 401, 403, 404, 409, 413, 429)]),
            ["GET v1/chains/{chain_name}/collections/{contract_address}/nfts/mint-requests"] = (null,
                [(200, typeof(MintRequestsPage), "A page of mint requests, newest first"), .. MintErrorsFor(400, 401, 403, 404)]),
            ["GET v1/chains/{chain_name}/collections/{contract_address}/nfts/mint-requests/{reference_id}"] = (null,
                [(200, typeof(MintRequestsPage), "The mint request (one item)"), .. MintErrorsFor(401, 403, 404)]),
            ["GET v1/chains/{chain_name}/collections/{contract_address}/nfts/{token_id}"] = (null,
                [(200, typeof(AssetResult), "The asset and its metadata"), .. MintErrorsFor(400, 401, 403, 404)]),
            ["POST v1/metadata-refreshes"] = (typeof(RefreshCreateBody),
                [(202, typeof(RefreshCreated), "Queued"), .. RefreshErrorsFor(400, 401, 403, 404, 429)]),
            ["GET v1/metadata-refreshes"] = (null,
                [(200, typeof(RefreshListPage<RefreshListItem>), "The caller's refreshes"), .. RefreshErrorsFor(400, 401)]),
            ["GET v1/metadata-refreshes/{refreshId}"] = (null,
                [(200, typeof(RefreshView), "One refresh with its summary"), .. RefreshErrorsFor(401, 403, 404)]),
            ["GET v1/metadata-refreshes/{refreshId}/errors"] = (null,
                [(200, typeof(RefreshListPage<RefreshErrorView>), "The tokens that failed"), .. RefreshErrorsFor(400, 401, 403, 404)]),
            ["GET v1/events"] = (null,
                [(200, typeof(EventsFeedPage), "The project's events oldest first, each as its webhook body"), .. MintErrorsFor(400, 401)]),
            ["GET health"] = (null, [(200, typeof(HealthStatusBody), "The process answers")]),
            ["GET healthz"] = (null, [(200, typeof(HealthBody), "The process answers")]),
            ["GET readyz"] = (null, [(200, typeof(HealthBody), "The store and every chain answer"), (503, typeof(HealthBody), "What failed")]),
        };

    public static IServiceCollection AddApiDocument(this IServiceCollection services) =>
        services.AddOpenApi("v1", o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = "OpenMint", Version = "v1", Description = "Minting API, Metadata Refresh API, assets, health (docs/api.md)" };
                return Task.CompletedTask;
            });
            o.AddDocumentTransformer(AddHandMappedAsync);
            o.AddSchemaTransformer((schema, context, _) =>
            {
                // A property annotated nullable (string?, MintRequestError?) is written as null: say so for every type, not only strings.
                if (context.JsonPropertyInfo is { IsGetNullable: true } && schema.Type is { } type)
                {
                    schema.Type = type | JsonSchemaType.Null;
                }
                return Task.CompletedTask;
            });
            o.AddOperationTransformer(DescribeAsync);
        });

    /// <summary>Maps <c>/openapi/v1.json</c>.</summary>
    public static IEndpointRouteBuilder MapApiDocument(this IEndpointRouteBuilder routes)
    {
        routes.MapOpenApi();
        return routes;
    }

    private static async Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        if (Shapes.TryGetValue($"{context.Description.HttpMethod} {context.Description.RelativePath?.TrimEnd('/')}", out var shape))
        {
            await DescribeAsync(operation, shape, (type, token) => context.GetOrCreateSchemaAsync(type, null, token), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Health checks and the Prometheus endpoint are not route handlers, so the generator skips them: added here.</summary>
    private static async Task AddHandMappedAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Paths ??= new OpenApiPaths();
        foreach (var path in new[] { "healthz", "readyz" })
        {
            var operation = new OpenApiOperation { Summary = path == "healthz" ? "Liveness" : "Readiness: the store and every chain's RPC" };
            await DescribeAsync(operation, Shapes["GET " + path], (type, token) => context.GetOrCreateSchemaAsync(type, null, token), ct).ConfigureAwait(false);
            document.Paths["/" + path] = new OpenApiPathItem { Operations = new() { [HttpMethod.Get] = operation } };
        }
        document.Paths["/metrics"] = new OpenApiPathItem
        {
            Operations = new()
            {
                [HttpMethod.Get] = new OpenApiOperation
                {
                    Summary = "Prometheus metrics",
                    Responses = new OpenApiResponses
                    {
                        ["200"] = new OpenApiResponse { Description = "Prometheus text format", Content = new Dictionary<string, OpenApiMediaType> { ["text/plain"] = new() } },
                    },
                },
            },
        };
    }

    private static async Task DescribeAsync(OpenApiOperation operation, (Type? Body, (int Status, Type Type, string Description)[] Responses) shape,
        Func<Type, CancellationToken, Task<OpenApiSchema>> schema, CancellationToken ct)
    {
        if (shape.Body is { } body)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType> { [Json] = new() { Schema = await schema(body, ct).ConfigureAwait(false) } },
            };
        }
        operation.Responses = new OpenApiResponses();
        foreach (var (status, type, description) in shape.Responses)
        {
            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType> { [Json] = new() { Schema = await schema(type, ct).ConfigureAwait(false) } },
            };
        }
    }

    private static IEnumerable<(int, Type, string)> MintErrorsFor(params int[] statuses) =>
        statuses.Select(s => (s, typeof(MintErrorBody), "Error: {code, message, details, link, trace_id}"));

    private static IEnumerable<(int, Type, string)> RefreshErrorsFor(params int[] statuses) =>
        statuses.Select(s => (s, typeof(RefreshErrorBody), "Error: {code, message, details}"));
}
