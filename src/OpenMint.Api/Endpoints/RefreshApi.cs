using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Storage;

namespace OpenMint.Api.Endpoints;

/// <summary>API.md section 2: metadata refreshes. (Filled in by the Metadata Refresh issue.)</summary>
public static class RefreshApi
{
    public static IServiceCollection AddRefreshApi(this IServiceCollection services, IConfiguration configuration, OpenMintStore store) => services;

    public static IServiceCollection AddRefreshWorker(this IServiceCollection services, IConfiguration configuration, OpenMintStore store) => services;

    public static IEndpointRouteBuilder MapRefreshApi(this IEndpointRouteBuilder routes) => routes;
}
