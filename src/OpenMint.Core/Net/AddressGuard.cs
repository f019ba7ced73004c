using System.Net;
using System.Net.Sockets;

namespace OpenMint.Core.Net;

/// <summary>Raised by the connect step when every address of a host is refused by <see cref="AddressGuard"/>.</summary>
public sealed class AddressRefusedException(string message) : IOException(message);

/// <summary>
/// The SSRF guard of every outbound HTTP client (metadata fetches today, webhook deliveries next). It decides on
/// the IP actually connected to, in the <see cref="SocketsHttpHandler.ConnectCallback"/> (after DNS, on every
/// redirect hop), so a public name that resolves to a refused address, or a redirect to one, is refused like the
/// address itself. Refused unless the <see cref="AddressPolicy"/> allows them: loopback, every address of this
/// machine's interfaces, and every special-purpose range that is not globally reachable (see
/// <see cref="AddressClasses"/>).
/// </summary>
public sealed class AddressGuard(AddressPolicy policy)
{
    public AddressPolicy Policy => policy;

    public bool IsAllowed(IPAddress address, int port)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (policy.AllowedEndpoints.Contains(new IPEndPoint(address, port)))
        {
            return true;
        }
        return AddressClasses.Classify(address) switch
        {
            AddressClass.Public => true,
            AddressClass.Loopback => policy.AllowLoopback || policy.AllowPrivateAddresses,
            AddressClass.ThisHost or AddressClass.Private => policy.AllowPrivateAddresses,
            _ => false, // unspecified, multicast, reserved: never a server
        };
    }

    /// <summary>
    /// The <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host, drops refused addresses,
    /// connects to the first allowed one that answers.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var port = context.DnsEndPoint.Port;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
        var allowed = addresses.Where(a => IsAllowed(a, port)).ToList();
        if (allowed.Count == 0)
        {
            var p = policy.SettingsPrefix;
            throw new AddressRefusedException(
                $"refused to connect to {host} ({string.Join(", ", addresses.Select(a => a.ToString()))}): loopback, private, link-local, reserved and this machine's own addresses are not allowed ({p}:AllowPrivateAddresses, {p}:AllowLoopback, {p}:AllowedEndpoints)");
        }
        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(address, port, ct).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }
}
