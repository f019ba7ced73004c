using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Storage;

namespace OpenMint.Api.Endpoints;

/// <summary>API.md section 1: mint requests. (Filled in by the Minting API issue.)</summary>
public static class MintingApi
{
    public static IServiceCollection AddMintingApi(this IServiceCollection services, IConfiguration configuration, OpenMintStore store) => services;

    public static IEndpointRouteBuilder MapMintingApi(this IEndpointRouteBuilder routes) => routes;
}
