using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenMint.Api.Dashboard;
using OpenMint.Api.Endpoints;
using OpenMint.Api.OpenApi;
using OpenMint.Api.Telemetry;
using OpenMint.Storage;

namespace OpenMint.Api;

/// <param name="Database">The <c>--database</c> value: <c>sqlite:&lt;path&gt;</c> or a PostgreSQL connection string.</param>
/// <param name="Urls">Where Kestrel listens; loopback by default. Port 0 picks a free port (tests).</param>
/// <param name="Settings">Configuration overrides (section:key = value), e.g. <c>Pipeline:PollInterval</c>.</param>
/// <param name="RunWorkers">False for an API-only instance (and for tests that drive workers by hand).</param>
/// <param name="Clock">The clock every part of the host reads; the system clock unless a test pins one.</param>
public sealed record ServerOptions(
    string Database,
    string Urls = "http://127.0.0.1:5080",
    IReadOnlyDictionary<string, string?>? Settings = null,
    bool RunWorkers = true,
    TimeProvider? Clock = null);

/// <summary>Builds the one host every entry point runs: <c>openmint serve</c>, <c>openmint dev</c>, tests and benchmarks.</summary>
public static class OpenMintServer
{
    public static async Task<WebApplication> BuildAsync(ServerOptions options, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(OpenMintServer).Assembly.GetName().Name });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = ApiLimits.MaxRequestBodyBytes;
            k.ConfigureEndpointDefaults(listen => listen.UseFrameworkErrorBodies());
        });
        if (options.Settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(options.Settings);
        }
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        if (builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] is null)
        {
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning); // no per-request lines at Information unless configured
        }

        var time = options.Clock ?? TimeProvider.System;
        // First, so the intake writer (a hosted service) stops after everything that feeds it.
        await builder.Services.AddOpenMintStorageAsync(options.Database, time, ct).ConfigureAwait(false);
        builder.Services.AddSingleton(time);
        builder.Services.AddApplicationServices(builder.Configuration);
        builder.Services.AddHealthAndMetrics();
        builder.Services.AddApiDocument();
        builder.Services.AddDashboard();
        if (options.RunWorkers)
        {
            builder.Services.AddOpenMintWorkers();
        }

        var app = builder.Build();
        app.UseApiErrors();
        app.MapMintingApi();
        app.MapAssetsApi();
        app.MapRefreshApi();
        app.MapEventsApi();
        app.MapHealthAndMetrics();
        app.MapApiDocument();
        app.MapDashboard();
        app.MapGet("/health", () => Microsoft.AspNetCore.Http.Results.Ok(new { status = "ok" }));
        return app;
    }
}
