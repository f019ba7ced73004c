using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenMint.Core.Telemetry;

namespace OpenMint.Api.Telemetry;

/// <summary>Counts refused mint create requests by their error <c>code</c> (<c>openmint_mint_requests_rejected_total</c>).</summary>
internal static class IntakeMetrics
{
    public static RouteHandlerBuilder CountRejections(this RouteHandlerBuilder builder) => builder.AddEndpointFilter(async (context, next) =>
    {
        var result = await next(context).ConfigureAwait(false);
        var error = result switch
        {
            ApiError e => e,
            INestedHttpResult { Result: ApiError e } => e,
            _ => null,
        };
        if (error is not null)
        {
            // Only the code: chain and collection come from the caller's URL, and labels must not grow without bound.
            OpenMintMetrics.Rejected(error.Value["code"]?.GetValue<string>() ?? error.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return result;
    });
}
