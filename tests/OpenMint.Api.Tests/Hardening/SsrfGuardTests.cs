using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Net;
using OpenMint.Core.Refresh;

namespace OpenMint.Api.Tests.Hardening;

/// <summary>The shared SSRF guard: special-purpose ranges, this machine's own addresses, and the policy it is given.</summary>
public sealed class SsrfGuardTests
{
    private static AddressGuard Guard(bool loopback = false, bool @private = false, params string[] endpoints) =>
        new(new AddressPolicy(loopback, @private, AddressPolicy.ParseEndpoints(endpoints, "Test:AllowedEndpoints"), "Test"));

    [Theory]
    [InlineData("192.0.2.1")]          // TEST-NET-1
    [InlineData("198.51.100.7")]       // TEST-NET-2
    [InlineData("203.0.113.200")]      // TEST-NET-3
    [InlineData("240.0.0.1")]          // reserved
    [InlineData("100.64.0.1")]         // shared address space
    [InlineData("198.18.0.1")]         // benchmarking
    [InlineData("198.19.255.255")]
    [InlineData("192.0.0.8")]          // IETF protocol assignments
    [InlineData("192.88.99.1")]        // 6to4 relay anycast
    [InlineData("2001:db8::1")]        // documentation
    [InlineData("3fff::1")]            // documentation (RFC 9637)
    [InlineData("2001:2::1")]          // benchmarking
    [InlineData("2001::1")]            // Teredo / IETF protocol assignments
    [InlineData("100::1")]             // discard-only
    [InlineData("64:ff9b:1::1")]       // local-use NAT64
    [InlineData("5f00::1")]            // SRv6
    [InlineData("::ffff:192.0.2.1")]   // IPv4-mapped forms
    [InlineData("::ffff:198.51.100.7")]
    [InlineData("::ffff:203.0.113.1")]
    [InlineData("::ffff:100.64.0.1")]
    [InlineData("::ffff:198.18.0.1")]
    [InlineData("64:ff9b::c000:201")]  // NAT64 forms: 192.0.2.1
    [InlineData("64:ff9b::c633:6407")] // 198.51.100.7
    [InlineData("64:ff9b::cb00:7101")] // 203.0.113.1
    [InlineData("64:ff9b::f000:1")]    // 240.0.0.1
    [InlineData("64:ff9b::6440:1")]    // 100.64.0.1
    [InlineData("64:ff9b::c612:1")]    // 198.18.0.1
    [InlineData("64:ff9b::7f00:1")]    // 127.0.0.1
    [InlineData("::ffff:0:7f00:1")]    // SIIT form of 127.0.0.1
    [InlineData("2002:7f00:1::1")]     // 6to4 around 127.0.0.1
    [InlineData("2002:a00:1::1")]      // 6to4 around 10.0.0.1
    public void special_purpose_ranges_that_are_not_globally_reachable_are_refused(string address)
    {
        Assert.False(Guard().IsAllowed(IPAddress.Parse(address), 80), address);
        Assert.NotEqual(AddressClass.Public, AddressClasses.Classify(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("198.51.100.7")]
    [InlineData("2001:db8::1")]
    [InlineData("64:ff9b::c000:201")]
    public void the_private_switch_opens_documentation_and_shared_ranges_and_an_endpoint_opens_exactly_itself(string address)
    {
        var ip = IPAddress.Parse(address);
        Assert.True(Guard(@private: true).IsAllowed(ip, 80));
        Assert.False(Guard(loopback: true).IsAllowed(ip, 80));
        var endpoint = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:80" : $"{address}:80";
        Assert.True(Guard(endpoints: endpoint).IsAllowed(ip, 80));
        Assert.False(Guard(endpoints: endpoint).IsAllowed(ip, 81));
    }

    [Theory]
    [InlineData("192.0.0.9")]          // globally reachable exceptions of the registries
    [InlineData("2001:3::1")]
    [InlineData("2001:20::1")]
    [InlineData("2001:4:112::1")]
    [InlineData("2002:808:808::1")]    // 6to4 around 8.8.8.8
    [InlineData("1.1.1.1")]
    [InlineData("2606:4700::1111")]
    public void globally_reachable_addresses_stay_allowed(string address) =>
        Assert.True(Guard().IsAllowed(IPAddress.Parse(address), 443), address);

    [Fact]
    public void every_address_of_every_local_interface_is_refused_by_default()
    {
        var local = LocalInterfaces.Current();
        Assert.NotEmpty(local);
        foreach (var address in local)
        {
            Assert.False(Guard().IsAllowed(address, 80), $"{address} is an address of this machine");
            Assert.NotEqual(AddressClass.Public, AddressClasses.Classify(address));
            Assert.True(Guard(@private: true).IsAllowed(address, 80), $"{address} with AllowPrivateAddresses");
        }
    }

    [Fact]
    public void the_refresh_options_become_the_guard_policy()
    {
        var policy = new RefreshOptions { AllowLoopback = true, AllowedEndpoints = ["10.0.0.5:8080"] }.AddressPolicy();
        Assert.True(policy.AllowLoopback);
        Assert.False(policy.AllowPrivateAddresses);
        Assert.Contains(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 8080), policy.AllowedEndpoints);
        Assert.Equal("Refresh", policy.SettingsPrefix);
    }

    /// <summary>This machine's non-loopback interface address (discovered now), or null when it has none.</summary>
    private static IPAddress? NonLoopbackInterfaceAddress() =>
        LocalInterfaces.Current()
            .Where(a => !IPAddress.IsLoopback(a) && !(a.AddressFamily == AddressFamily.InterNetworkV6 && a.IsIPv6LinkLocal))
            .OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)
            .FirstOrDefault();

    [Fact]
    public async Task a_metadata_server_on_this_machines_interface_address_is_refused_without_the_switch_and_fetched_with_it()
    {
        var address = NonLoopbackInterfaceAddress();
        var bind = address ?? IPAddress.Loopback; // without another interface, loopback stands in (refused the same way)
        await using var server = await StartServerAsync(bind);
        var url = $"http://{(bind.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{bind}]" : bind.ToString())}:{server.Port}/1";

        using (var defaults = new MetadataFetcher(new RefreshOptions(), TimeProvider.System))
        {
            var refused = await defaults.FetchAsync(url, CancellationToken.None);
            Assert.False(refused.Succeeded, $"{url} was fetched without any switch");
            Assert.Equal(RefreshErrorCodes.UnableToRetrieveMetadata, refused.ErrorCode);
            Assert.Contains("refused to connect", refused.Body, StringComparison.Ordinal);
        }
        if (address is not null)
        {
            using var loopbackOnly = new MetadataFetcher(new RefreshOptions { AllowLoopback = true }, TimeProvider.System);
            Assert.False((await loopbackOnly.FetchAsync(url, CancellationToken.None)).Succeeded, "AllowLoopback must not open this machine's other addresses");
        }
        using (var allowed = new MetadataFetcher(new RefreshOptions { AllowPrivateAddresses = true }, TimeProvider.System))
        {
            var fetched = await allowed.FetchAsync(url, CancellationToken.None);
            Assert.True(fetched.Succeeded, $"{url} with AllowPrivateAddresses: {fetched.ErrorCode} {fetched.Body}");
            Assert.Equal("""{"name":"local"}""", fetched.Metadata);
        }
        var endpoint = new IPEndPoint(bind, server.Port).ToString();
        using (var byEndpoint = new MetadataFetcher(new RefreshOptions { AllowedEndpoints = [endpoint] }, TimeProvider.System))
        {
            Assert.True((await byEndpoint.FetchAsync(url, CancellationToken.None)).Succeeded, $"AllowedEndpoints {endpoint}");
        }
    }

    [Fact]
    public async Task a_host_name_that_resolves_to_this_machine_is_refused_on_the_address_connected_to()
    {
        // "localhost" always resolves to this machine; the machine's own name does too where it resolves at all.
        await using var server = await StartServerAsync(IPAddress.Any);
        var names = new List<string> { "localhost" };
        var own = Dns.GetHostName();
        try
        {
            if ((await Dns.GetHostAddressesAsync(own)).Length > 0)
            {
                names.Add(own);
            }
        }
        catch (SocketException)
        {
        }
        using var defaults = new MetadataFetcher(new RefreshOptions(), TimeProvider.System);
        using var allowed = new MetadataFetcher(new RefreshOptions { AllowPrivateAddresses = true }, TimeProvider.System);
        foreach (var name in names)
        {
            var url = $"http://{name}:{server.Port}/1";
            var refused = await defaults.FetchAsync(url, CancellationToken.None);
            Assert.False(refused.Succeeded, $"{url} was fetched without any switch");
            Assert.Contains("refused to connect", refused.Body, StringComparison.Ordinal);
            var fetched = await allowed.FetchAsync(url, CancellationToken.None);
            Assert.True(fetched.Succeeded, $"{url} with AllowPrivateAddresses: {fetched.Body}");
        }
    }

    private sealed class LocalServer(WebApplication app, int port) : IAsyncDisposable
    {
        public int Port => port;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task<LocalServer> StartServerAsync(IPAddress address)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, 0));
        var app = builder.Build();
        app.MapGet("/{id}", () => Results.Text("""{"name":"local"}""", "application/json"));
        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = int.Parse(bound[(bound.LastIndexOf(':') + 1)..].TrimEnd('/'), System.Globalization.CultureInfo.InvariantCulture);
        return new LocalServer(app, port);
    }
}
