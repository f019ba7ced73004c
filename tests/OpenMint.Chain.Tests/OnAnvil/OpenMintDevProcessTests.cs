using System.Diagnostics;
using System.Net.Http.Json;
using OpenMint.DevChain;
using OpenMint.TestSupport;

namespace OpenMint.Chain.Tests.OnAnvil;

/// <summary>The real <c>openmint dev</c> process: serves until SIGTERM, then stops Anvil; a second run starts cleanly.</summary>
public sealed class OpenMintDevProcessTests : IDisposable
{
    private readonly string _workDir = Path.Combine(TestEnvironment.RepoRoot, ".tmp", "dev-process-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task openmint_dev_serves_until_sigterm_stops_anvil_and_a_second_run_starts_cleanly()
    {
        Directory.CreateDirectory(_workDir);
        var first = await RunUntilServingAsync();
        var second = await RunUntilServingAsync();
        Assert.NotEqual(first.ProjectId, second.ProjectId);
    }

    private async Task<DevInfo> RunUntilServingAsync()
    {
        var devJson = Path.Combine(_workDir, ".openmint", DevBootstrap.DevJsonFileName);
        // The previous run's file must not be mistaken for this run's.
        if (File.Exists(devJson))
        {
            File.Delete(devJson);
        }
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = _workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { CliDll(), "dev", "--port", "0" })
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Eventually.TrueAsync(() =>
            {
                Assert.False(process.HasExited, "openmint dev exited early:\n" + string.Join('\n', output));
                return Task.FromResult(File.Exists(devJson));
            }, "openmint dev to write dev.json", TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(200));
            var info = DevBootstrap.ReadDevJson(devJson);

            Assert.Equal("ok", (await _http.GetFromJsonAsync<Dictionary<string, string>>(info.BaseUrl + "/health"))!["status"]);
            using var list = new HttpRequestMessage(HttpMethod.Get, $"{info.BaseUrl}/v1/chains/{info.ChainName}/collections/{info.Collections["erc721"]}/nfts/mint-requests");
            list.Headers.Add("x-immutable-api-key", info.ApiKey);
            Assert.True((await _http.SendAsync(list)).IsSuccessStatusCode);
            await RawRpc.CallAsync(new Uri(info.RpcUrl), "eth_chainId");

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(cts.Token);
            await Assert.ThrowsAsync<HttpRequestException>(() => RawRpc.CallAsync(new Uri(info.RpcUrl), "eth_chainId"));
            return info;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>The CLI built in the same configuration as this test assembly (./test builds the whole solution).</summary>
    private static string CliDll()
    {
        var config = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(TestEnvironment.RepoRoot, "src", "OpenMint.Cli", "bin", config, "net10.0", "openmint.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution (./test does) before running this test.");
        return dll;
    }

    public void Dispose()
    {
        _http.Dispose();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
