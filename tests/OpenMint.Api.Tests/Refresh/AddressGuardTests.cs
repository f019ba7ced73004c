using System.Net;
using OpenMint.Core.Net;
using OpenMint.Core.Refresh;

namespace OpenMint.Api.Tests.Refresh;

public sealed class AddressGuardTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("169.254.1.1")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.254")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("fc12::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    public void non_public_addresses_are_refused_by_default(string address)
    {
        var guard = new AddressGuard(new RefreshOptions().AddressPolicy());
        Assert.False(guard.IsAllowed(IPAddress.Parse(address), 80));
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("8.8.8.8")]
    [InlineData("2606:4700::1111")]
    public void public_addresses_are_allowed(string address) =>
        Assert.True(new AddressGuard(new RefreshOptions().AddressPolicy()).IsAllowed(IPAddress.Parse(address), 443));

    [Fact]
    public void operator_switches_open_exactly_what_they_name()
    {
        var loopback = new AddressGuard(new RefreshOptions { AllowLoopback = true }.AddressPolicy());
        Assert.True(loopback.IsAllowed(IPAddress.Loopback, 8080));
        Assert.True(loopback.IsAllowed(IPAddress.IPv6Loopback, 8080));
        Assert.False(loopback.IsAllowed(IPAddress.Parse("10.0.0.1"), 8080));
        Assert.False(loopback.IsAllowed(IPAddress.Parse("169.254.169.254"), 80));

        var all = new AddressGuard(new RefreshOptions { AllowPrivateAddresses = true }.AddressPolicy());
        Assert.True(all.IsAllowed(IPAddress.Parse("10.0.0.1"), 8080));
        Assert.False(all.IsAllowed(IPAddress.Any, 8080));

        var endpoint = new AddressGuard(new RefreshOptions { AllowedEndpoints = ["127.0.0.1:5000"] }.AddressPolicy());
        Assert.True(endpoint.IsAllowed(IPAddress.Loopback, 5000));
        Assert.False(endpoint.IsAllowed(IPAddress.Loopback, 5001));
    }

    [Theory]
    [InlineData("https://m.example/", "12", "https://m.example/12")]
    [InlineData("https://m.example/{id}.json", "12", "https://m.example/000000000000000000000000000000000000000000000000000000000000000c.json")]
    public void metadata_urls_append_the_id_or_substitute_it_as_64_hex_digits(string baseUri, string id, string expected) =>
        Assert.Equal(expected, TokenIds.MetadataUrl(baseUri, id));
}
