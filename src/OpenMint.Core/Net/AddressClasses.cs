using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace OpenMint.Core.Net;

public enum AddressClass
{
    /// <summary>Globally reachable.</summary>
    Public,
    /// <summary>127.0.0.0/8, ::1.</summary>
    Loopback,
    /// <summary>An address of one of this machine's own network interfaces (reaches local services like loopback does).</summary>
    ThisHost,
    /// <summary>A special-purpose range that is not globally reachable: private, link-local, shared, documentation, benchmarking, ...</summary>
    Private,
    /// <summary>Unspecified, multicast, broadcast, reserved, discard: never a server.</summary>
    Never,
}

/// <summary>
/// Classifies addresses after the IANA IPv4 and IPv6 Special-Purpose Address Registries: every range whose
/// "Globally Reachable" is False (or N/A) is not <see cref="AddressClass.Public"/>. Addresses that embed an IPv4
/// address (IPv4-mapped, SIIT, NAT64 64:ff9b::/96, 6to4) are classified by the IPv4 address they carry.
/// </summary>
public static class AddressClasses
{
    public static AddressClass Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        var found = address.AddressFamily switch
        {
            AddressFamily.InterNetwork => ClassifyV4(address),
            AddressFamily.InterNetworkV6 => ClassifyV6(address),
            _ => AddressClass.Never,
        };
        return found == AddressClass.Public && LocalInterfaces.Contains(address) ? AddressClass.ThisHost : found;
    }

    private static AddressClass ClassifyV4(IPAddress address)
    {
        Span<byte> b = stackalloc byte[4];
        address.TryWriteBytes(b, out _);
        return (b[0], b[1], b[2]) switch
        {
            (127, _, _) => AddressClass.Loopback,
            (0, _, _) => AddressClass.Never,                               // "this network"
            (>= 224, _, _) => AddressClass.Never,                          // multicast 224/4, reserved 240/4, broadcast
            (10, _, _) => AddressClass.Private,
            (100, >= 64 and <= 127, _) => AddressClass.Private,            // shared address space (CGNAT) 100.64/10
            (169, 254, _) => AddressClass.Private,                         // link-local, incl. the 169.254.169.254 metadata service
            (172, >= 16 and <= 31, _) => AddressClass.Private,
            (192, 0, 0) => b[3] is 9 or 10 ? AddressClass.Public : AddressClass.Private, // IETF protocol assignments (PCP/TURN anycast are global)
            (192, 0, 2) => AddressClass.Private,                           // TEST-NET-1
            (192, 88, 99) => AddressClass.Private,                         // deprecated 6to4 relay anycast
            (192, 168, _) => AddressClass.Private,
            (198, 18 or 19, _) => AddressClass.Private,                    // benchmarking 198.18/15
            (198, 51, 100) => AddressClass.Private,                        // TEST-NET-2
            (203, 0, 113) => AddressClass.Private,                         // TEST-NET-3
            _ => AddressClass.Public,
        };
    }

    private static AddressClass ClassifyV6(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);
        if (b[..15].IndexOfAnyExcept((byte)0) < 0)
        {
            return b[15] == 1 ? AddressClass.Loopback : AddressClass.Never; // ::1, ::
        }
        if (b[..8].IndexOfAnyExcept((byte)0) < 0 && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
        {
            return Classify(new IPAddress(b[12..]));                       // ::ffff:0:0/96 IPv4-translated (SIIT)
        }
        if (b[..12].IndexOfAnyExcept((byte)0) < 0)
        {
            return AddressClass.Never;                                     // ::/96 IPv4-compatible (deprecated)
        }
        if (b[..12].SequenceEqual(Nat64Prefix))
        {
            return Classify(new IPAddress(b[12..]));                       // 64:ff9b::/96 NAT64 embeds an IPv4 address
        }
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01)
        {
            return AddressClass.Private;                                   // 64:ff9b:1::/48 local-use translation
        }
        if (b[0] == 0x01 && b[1] == 0x00 && b[2..6].IndexOfAnyExcept((byte)0) < 0)
        {
            return AddressClass.Never;                                     // 100::/64 discard-only (and the 100:0:0:1::/64 dummy prefix)
        }
        if (b[0] == 0x20 && b[1] == 0x01)
        {
            return ClassifyV6In2001(b);
        }
        if (b[0] == 0x20 && b[1] == 0x02)
        {
            var embedded = Classify(new IPAddress(b[2..6]));               // 2002::/16 6to4 embeds an IPv4 address
            return embedded == AddressClass.Public ? AddressClass.Public : AddressClass.Private;
        }
        return (b[0], b[1]) switch
        {
            (0x3f, 0xff) when (b[2] & 0xf0) == 0 => AddressClass.Private,  // 3fff::/20 documentation
            (0x5f, 0x00) => AddressClass.Private,                          // 5f00::/16 SRv6 SIDs
            (0xff, _) => AddressClass.Never,                               // multicast
            _ when (b[0] & 0xfe) == 0xfc => AddressClass.Private,          // unique local fc00::/7
            (0xfe, _) when (b[1] & 0x80) == 0x80 => AddressClass.Private,  // link-local fe80::/10, site-local fec0::/10
            _ => AddressClass.Public,
        };
    }

    /// <summary>2001::/23 (IETF protocol assignments, Teredo, benchmarking) bar its globally reachable parts; 2001:db8::/32.</summary>
    private static AddressClass ClassifyV6In2001(ReadOnlySpan<byte> b)
    {
        if (b[2] == 0x0d && b[3] == 0xb8)
        {
            return AddressClass.Private;                                   // 2001:db8::/32 documentation
        }
        if ((b[2] & 0xfe) != 0)
        {
            return AddressClass.Public;                                    // outside 2001::/23
        }
        var global = b[2] == 0 && (
            b[3] == 0x03                                                   // 2001:3::/32 AMT
            || b[3] is >= 0x20 and <= 0x3f                                 // 2001:20::/28 ORCHIDv2, 2001:30::/28 DRIP
            || (b[3] == 0x04 && b[4] == 0x01 && b[5] == 0x12)              // 2001:4:112::/48 AS112
            || (b[3] == 0x01 && b[4..15].IndexOfAnyExcept((byte)0) < 0 && b[15] is >= 1 and <= 3)); // 2001:1::1..3 anycast
        return global ? AddressClass.Public : AddressClass.Private;
    }

    private static readonly byte[] Nat64Prefix = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
}

/// <summary>The unicast addresses of this machine's interfaces, re-read at most every few seconds.</summary>
public static class LocalInterfaces
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(5);
    private static (HashSet<IPAddress> Addresses, long ReadAt)? _snapshot;

    public static bool Contains(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            address = new IPAddress(address.GetAddressBytes()); // compare without the zone
        }
        return Current().Contains(address);
    }

    public static IReadOnlyCollection<IPAddress> Current()
    {
        var snapshot = _snapshot;
        var now = Environment.TickCount64;
        if (snapshot is { } s && now - s.ReadAt < RefreshEvery.TotalMilliseconds)
        {
            return s.Addresses;
        }
        var addresses = Read();
        _snapshot = (addresses, now);
        return addresses;
    }

    private static HashSet<IPAddress> Read()
    {
        var set = new HashSet<IPAddress>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    var a = unicast.Address;
                    set.Add(a.AddressFamily == AddressFamily.InterNetworkV6 && a.ScopeId != 0 ? new IPAddress(a.GetAddressBytes()) : a);
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Cannot enumerate: every other range check still applies.
        }
        return set;
    }
}
