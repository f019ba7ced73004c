using OpenMint.Core.Telemetry;

namespace OpenMint.Api.Telemetry;

/// <summary>Counts refused mint create requests by their error <c>code</c> (<c>openmint_mint_requests_rejected_total</c>).</summary>
internal static class IntakeMetrics
{
    /// <summary>Only the code: chain and collection come from the caller's URL, and labels must not grow without bound.</summary>
    public static void Rejected(ApiError error) =>
        OpenMintMetrics.Rejected(error.Value["code"]?.GetValue<string>() ?? error.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
