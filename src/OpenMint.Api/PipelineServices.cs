using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Storage;

namespace OpenMint.Api;

/// <summary>Registers the minting pipeline workers. (Filled in by the Minting pipeline issue.)</summary>
public static class PipelineServices
{
    public static IServiceCollection AddMintPipeline(this IServiceCollection services, IConfiguration configuration, OpenMintStore store) => services;
}
