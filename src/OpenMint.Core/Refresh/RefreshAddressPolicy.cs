using OpenMint.Core.Net;

namespace OpenMint.Core.Refresh;

/// <summary>The <c>Refresh:Allow*</c> switches as the policy of the shared SSRF guard.</summary>
public static class RefreshAddressPolicy
{
    public static AddressPolicy AddressPolicy(this RefreshOptions options) => new(
        options.AllowLoopback,
        options.AllowPrivateAddresses,
        Net.AddressPolicy.ParseEndpoints(options.AllowedEndpoints, RefreshOptions.Section + ":AllowedEndpoints"),
        RefreshOptions.Section);
}
