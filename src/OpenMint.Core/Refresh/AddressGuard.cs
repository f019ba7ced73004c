using System.Net;
using System.Net.Sockets;

namespace OpenMint.Core.Refresh;

/// <summary>Raised by the connect step when every address of a host is refused by <see cref="AddressGuard"/>.</summary>
public sealed class AddressRefusedException(string message) : IOException(message);

/// <summary>
/// The SSRF guard: decides on the IP actually connected to (after DNS, on every redirect hop), so a public
/// name that resolves to a private address, or a redirect to one, is refused like the address itself.
/// </summary>
public sealed class AddressGuard(RefreshOptions options)
{
    private readonly HashSet<IPEndPoint> _allowed = options.AllowedEndpoints.Select(e => IPEndPoint.Parse(e)).ToHashSet();

    public bool IsAllowed(IPAddress address, int port)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (_allowed.Contains(new IPEndPoint(address, port)))
        {
            return true;
        }
        return Classify(address) switch
        {
            AddressClass.Public => true,
            AddressClass.Loopback => options.AllowLoopback || options.AllowPrivateAddresses,
            AddressClass.Private => options.AllowPrivateAddresses,
            _ => false, // unspecified, multicast, reserved: never a metadata server
        };
    }

    internal enum AddressClass { Public, Loopback, Private, Never }

    internal static AddressClass Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return (b[0], b[1]) switch
            {
                (127, _) => AddressClass.Loopback,
                (0, _) => AddressClass.Never,                                // unspecified / "this network"
                (10, _) => AddressClass.Private,
                (172, >= 16 and <= 31) => AddressClass.Private,
                (192, 168) => AddressClass.Private,
                (169, 254) => AddressClass.Private,                          // link-local, incl. 169.254.169.254 metadata service
                (100, >= 64 and <= 127) => AddressClass.Private,             // CGNAT
                (192, 0) when b[2] == 0 => AddressClass.Private,             // IETF protocol assignments
                (198, 18 or 19) => AddressClass.Private,                     // benchmarking
                (>= 224, _) => AddressClass.Never,                           // multicast, reserved, broadcast
                _ => AddressClass.Public,
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Loopback))
            {
                return AddressClass.Loopback;
            }
            if (address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any))
            {
                return AddressClass.Never;
            }
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            if (b[0] == 0xff)
            {
                return AddressClass.Never;                                   // multicast
            }
            if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0))
            {
                return AddressClass.Private;                                 // ULA fc00::/7, link-local fe80::/10, site-local fec0::/10
            }
            if (b[..12].SequenceEqual(Nat64Prefix))
            {
                return Classify(new IPAddress(b[12..]));                     // 64:ff9b::/96 embeds an IPv4 address
            }
            if (b[..12].IndexOfAnyExcept((byte)0) < 0)
            {
                return AddressClass.Never;                                   // IPv4-compatible (deprecated)
            }
            return AddressClass.Public;
        }
        return AddressClass.Never;
    }

    private static readonly byte[] Nat64Prefix = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

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
            throw new AddressRefusedException(
                $"refused to connect to {host} ({string.Join(", ", addresses.Select(a => a.ToString()))}): private, loopback or link-local addresses are not allowed (Refresh:AllowPrivateAddresses, Refresh:AllowLoopback, Refresh:AllowedEndpoints)");
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
