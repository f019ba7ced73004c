using Microsoft.Extensions.Options;
using OpenMint.Core.Refresh;

namespace OpenMint.Api.Tests.Refresh;

public sealed class RefreshOptionsTests
{
    [Fact]
    public async Task a_bad_refresh_setting_stops_the_host_at_start_naming_the_setting_and_an_example()
    {
        var path = Path.Combine(Path.GetTempPath(), $"openmint-options-{Guid.NewGuid():N}.db");
        var settings = new Dictionary<string, string?> { ["Refresh:MaxConcurrency"] = "0", ["Refresh:AllowedEndpoints:0"] = "metadata.internal" };
        await using var app = await OpenMintServer.BuildAsync(new ServerOptions("sqlite:" + path, "http://127.0.0.1:0", settings, RunWorkers: false), CancellationToken.None);
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("Refresh:MaxConcurrency must be 1..4096, e.g. 256", failure.Message);
        Assert.Contains("Refresh:AllowedEndpoints entry 'metadata.internal' must be ip:port, e.g. 10.0.0.5:8080", failure.Message);
        File.Delete(path);
    }

    [Fact]
    public void the_defaults_are_valid_and_each_problem_names_its_setting()
    {
        Assert.Empty(new RefreshOptions().Validate());
        var problems = new RefreshOptions { AttemptTimeout = TimeSpan.FromMinutes(5), PollInterval = TimeSpan.Zero }.Validate().ToList();
        Assert.Equal(2, problems.Count);
        Assert.StartsWith("Refresh:ClaimLease must outlast", problems[0]);
        Assert.StartsWith("Refresh:PollInterval must be positive, e.g. 00:00:00.5", problems[1]);
    }

    [Fact]
    public void per_origin_settings_are_checked_and_the_former_name_says_what_replaced_it()
    {
        var problems = new RefreshOptions { MaxConcurrency = 8, MaxConcurrencyPerOrigin = 16, MaxConnectionsPerOrigin = 64, ClaimTurnSize = 0 }.Validate().ToList();
        Assert.Equal(
        [
            "Refresh:MaxConcurrencyPerOrigin must not exceed Refresh:MaxConcurrency, e.g. 64 and 256 (the defaults)",
            "Refresh:MaxConnectionsPerOrigin was renamed: set Refresh:MaxConcurrencyPerOrigin instead, e.g. 64 (the default)",
            "Refresh:ClaimTurnSize must be 1..Refresh:ClaimBatchSize, e.g. 64 (the default)",
        ], problems);
    }
}
