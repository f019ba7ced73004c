using System.Diagnostics;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Refresh;

/// <summary>The unmodified @imtbl/core-sdk client (tests/js/refresh-client.mjs) against the live server.</summary>
public sealed class RefreshJsClientTests
{
    [Fact]
    public async Task the_core_sdk_client_creates_follows_and_lists_a_refresh()
    {
        var js = Path.Combine(TestEnvironment.RepoRoot, "tests", "js");
        Assert.True(Directory.Exists(Path.Combine(js, "node_modules", "@imtbl", "core-sdk")),
            "tests/js/node_modules is missing: run ./test (or `source scripts/setup.sh && setup_all_for_tests`) to install the JS client packages");

        await using var metadata = await MetadataTestServer.StartAsync();
        await using var host = await RefreshTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Refresh:AllowedEndpoints:0"] = $"127.0.0.1:{metadata.Port}",
        });
        var project = await host.AddProjectAsync();
        var collection = await host.AddCollectionAsync(project, metadata.Base + "ok/");
        await host.AddTokensAsync(collection, ["1", "2", "3"]);

        var start = new ProcessStartInfo("node", [Path.Combine(js, "refresh-client.mjs")])
        {
            WorkingDirectory = js,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["OPENMINT_URL"] = host.BaseAddress.ToString();
        start.Environment["OWNER_KEY"] = RefreshTestHost.OwnerKeyHex;
        start.Environment["COLLECTION_ADDRESS"] = OpenMint.Chain.EthAddress.ToChecksum(collection.Address);
        start.Environment["TOKEN_IDS"] = "1,2,3,404404";
        start.Environment["EXPECT_SUCCEEDED"] = "3";
        start.Environment["EXPECT_FAILED"] = "1";
        start.Environment["UNKNOWN_TOKEN_ID"] = "404404";

        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw;
        }
        var output = await stdout;
        Assert.True(node.ExitCode == 0, $"refresh-client.mjs exited {node.ExitCode}: {output} {await stderr}");
        Assert.Contains("\"ok\":true", output);
        Assert.Contains("\"Token 2\"", (await host.ReadTokenAsync(collection, "2")).Metadata);
    }
}
