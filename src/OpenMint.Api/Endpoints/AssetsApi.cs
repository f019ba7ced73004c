using Microsoft.AspNetCore.Routing;

namespace OpenMint.Api.Endpoints;

/// <summary>API.md section 3: reading one token. (Filled in by the Minting API issue.)</summary>
public static class AssetsApi
{
    public static IEndpointRouteBuilder MapAssetsApi(this IEndpointRouteBuilder routes) => routes;
}
