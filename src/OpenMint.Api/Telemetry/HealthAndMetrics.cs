using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Telemetry;
using OpenMint.Storage.Telemetry;
using OpenTelemetry.Metrics;

namespace OpenMint.Api.Telemetry;

/// <summary>
/// <c>GET /healthz</c> (the process answers), <c>GET /readyz</c> (the store and every chain's RPC answer; 503 with
/// what failed otherwise) and <c>GET /metrics</c> (the <see cref="OpenMintMetrics"/> meter in Prometheus text).
/// </summary>
public static class HealthAndMetrics
{
    private const string ReadyTag = "ready";

    private static readonly HttpMethodMetadata Get = new(["GET"]);

    public static IServiceCollection AddHealthAndMetrics(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => ChainConnectors.Create(sp.GetRequiredService<PipelineOptions>()));
        services.AddSingleton<QueueCounts>();
        services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>("store", tags: [ReadyTag])
            .AddCheck<ChainsHealthCheck>("chains", tags: [ReadyTag]);
        services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(OpenMintMetrics.MeterName)
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        services.AddHostedService<MetricsSampler>();
        return services;
    }

    public static IEndpointRouteBuilder MapHealthAndMetrics(this IEndpointRouteBuilder routes)
    {
        // GET only; these are not route handlers, so ApiDocument describes them by hand.
        routes.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).WithMetadata(Get);
        routes.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync }).WithMetadata(Get);
        routes.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(Get);
        return routes;
    }

    /// <summary>
    /// <c>{"status": "healthy"|"unhealthy", "checks": {"store": {...}, "chain anvil": {...}}, "failed": ["chain anvil: ..."]}</c>:
    /// a chain check reports each chain as its own entry.
    /// </summary>
    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        var checks = new SortedDictionary<string, HealthEntry>(StringComparer.Ordinal);
        foreach (var (name, entry) in report.Entries)
        {
            var parts = entry.Data.Count > 0
                ? entry.Data.Select(d => (d.Key, Error: d.Value as string))
                : [(name, Error: entry.Status == HealthStatus.Healthy ? null : entry.Description ?? entry.Exception?.Message ?? "failed")];
            foreach (var (key, error) in parts)
            {
                checks[key] = new HealthEntry(error is null ? "healthy" : "unhealthy", error);
            }
        }
        var body = new HealthBody(
            report.Status == HealthStatus.Healthy ? "healthy" : "unhealthy",
            checks,
            checks.Where(c => c.Value.Error is not null).Select(c => $"{c.Key}: {c.Value.Error}").ToList());
        return JsonSerializer.SerializeAsync(http.Response.Body, body, HealthJson.Options, http.RequestAborted);
    }
}

public sealed record HealthEntry(string Status, string? Error);

public sealed record HealthBody(string Status, IReadOnlyDictionary<string, HealthEntry> Checks, IReadOnlyList<string> Failed);

internal static class HealthJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}
