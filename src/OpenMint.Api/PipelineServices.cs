using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenMint.Core.Pipeline;

namespace OpenMint.Api;

/// <summary>Registers the minting pipeline: options from section <c>Pipeline</c> (validated on start) and the worker.</summary>
public static class PipelineServices
{
    public static IServiceCollection AddMintPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PipelineOptions>()
            .Bind(configuration.GetSection(PipelineOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PipelineOptions>, PipelineOptionsValidator>();
        services.TryAddSingleton(sp => ChainConnectors.Create(sp.GetRequiredService<IOptions<PipelineOptions>>().Value));
        services.AddHostedService<PipelineWorker>();
        return services;
    }

    private sealed class PipelineOptionsValidator : IValidateOptions<PipelineOptions>
    {
        public ValidateOptionsResult Validate(string? name, PipelineOptions options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
