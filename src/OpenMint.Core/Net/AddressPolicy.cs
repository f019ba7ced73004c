using System.Net;

namespace OpenMint.Core.Net;

/// <summary>
/// What an outbound HTTP client of OpenMint may connect to besides public addresses. Each feature binds its
/// own switches (<c>Refresh:*</c> for metadata fetches, later <c>Webhooks:*</c> for deliveries) into one of these.
/// </summary>
/// <param name="AllowLoopback">127.0.0.0/8 and ::1 (a metadata server beside the service, as <c>openmint dev</c> runs).</param>
/// <param name="AllowPrivateAddresses">
/// Every address that is not globally reachable (RFC 1918, link-local, CGNAT, ULA, documentation and benchmarking
/// ranges, ...) and every address of this machine's own interfaces, loopback included.
/// </param>
/// <param name="AllowedEndpoints">Exact ip:port endpoints allowed whatever their address (an operator's internal host).</param>
/// <param name="SettingsPrefix">Configuration section the switches come from, named in refusals (e.g. <c>Refresh</c>).</param>
public sealed record AddressPolicy(bool AllowLoopback, bool AllowPrivateAddresses, IReadOnlySet<IPEndPoint> AllowedEndpoints, string SettingsPrefix)
{
    /// <summary>Public addresses only.</summary>
    public static AddressPolicy PublicOnly(string settingsPrefix) => new(false, false, new HashSet<IPEndPoint>(), settingsPrefix);

    /// <summary>Parses <c>ip:port</c> entries; throws naming the setting when one is malformed.</summary>
    public static IReadOnlySet<IPEndPoint> ParseEndpoints(IEnumerable<string> entries, string settingName)
    {
        var set = new HashSet<IPEndPoint>();
        foreach (var e in entries)
        {
            if (!IPEndPoint.TryParse(e, out var endpoint) || endpoint.Port == 0)
            {
                throw new InvalidOperationException($"{settingName} entry '{e}' must be ip:port, e.g. 10.0.0.5:8080.");
            }
            set.Add(Normalize(endpoint));
        }
        return set;
    }

    internal static IPEndPoint Normalize(IPEndPoint endpoint) =>
        endpoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port) : endpoint;
}
