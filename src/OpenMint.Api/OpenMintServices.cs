using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenMint.Api.Endpoints;
using OpenMint.Api.Refresh;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Refresh;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;

namespace OpenMint.Api;

/// <summary>
/// Everything the host registers, in two calls: the services every instance needs (store, clock, options,
/// the HTTP APIs) and the background workers (minting pipeline, metadata refresh), which an API-only
/// instance leaves out.
/// </summary>
public static class OpenMintServices
{
    /// <remarks>The store is registered before this, by <c>AddOpenMintStorage</c>: its intake writer must stop last.</remarks>
    public static IServiceCollection AddApplicationServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        // Intake raises it after each commit so this instance's webhook worker fans out at once instead of at its next poll.
        services.TryAddSingleton<Core.Events.MintEventSignal>();
        services.TryAddSingleton<Core.Pipeline.MintQueueSignal>();

        services.AddValidatedOptions<PipelineOptions>(configuration, PipelineOptions.Section, o => o.Validate());
        services.AddValidatedOptions<RefreshOptions>(configuration, RefreshOptions.Section, o => o.Validate());
        services.AddValidatedOptions<Core.Webhooks.WebhookOptions>(configuration, Core.Webhooks.WebhookOptions.Section, o => o.Validate());

        services.AddMintingApi(configuration);
        services.AddRefreshApi();
        return services;
    }

    public static IServiceCollection AddOpenMintWorkers(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => ChainConnectors.Create(sp.GetRequiredService<PipelineOptions>()));
        services.AddHostedService<PipelineWorker>();

        services.AddSingleton(sp => new MetadataFetcher(sp.GetRequiredService<RefreshOptions>(), sp.GetRequiredService<TimeProvider>()));
        // eth_call goes to the operator's own RPC endpoint (often loopback), so it does not pass the SSRF guard.
        services.AddSingleton(sp => new BaseUriResolver(sp.GetRequiredService<ITenancyStore>(), new HttpClient(), sp.GetRequiredService<RefreshOptions>()));
        services.AddSingleton<RefreshProcessor>();
        services.AddHostedService<RefreshWorkerService>();
        services.AddHostedService<Core.Webhooks.WebhookWorker>();
        return services;
    }

    /// <summary>
    /// The one options style: bound from <paramref name="section"/>, checked by <paramref name="problems"/> (messages
    /// that name the setting and an example value) when the host starts, and injectable as <typeparamref name="T"/> itself.
    /// </summary>
    private static void AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration, string section, Func<T, IEnumerable<string>> problems)
        where T : class
    {
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(new ProblemsValidator<T>(problems));
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<T>>().Value);
    }

    private sealed class ProblemsValidator<T>(Func<T, IEnumerable<string>> problems) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var errors = problems(options).ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
