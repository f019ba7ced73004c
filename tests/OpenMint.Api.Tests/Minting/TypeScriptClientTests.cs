using System.Diagnostics;
using System.Text.Json.Nodes;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Minting;

/// <summary>Immutable's unmodified @imtbl/blockchain-data client against a real OpenMint server (tests/js/minting-client.mjs).</summary>
public sealed class TypeScriptClientTests(MintingServerFixture server) : IClassFixture<MintingServerFixture>
{
    private static readonly string JsDir = Path.Combine(TestEnvironment.RepoRoot, "tests", "js");

    [Fact]
    public async Task the_blockchain_data_client_creates_gets_and_lists_mint_requests_unchanged()
    {
        await EnsureNodeModulesAsync();
        var (code, stdout, stderr) = await RunAsync("node", JsDir, Path.Combine(JsDir, "minting-client.mjs"), server.BaseUrl, server.Key, MintingServerFixture.ChainName, server.Erc721);
        Assert.True(code == 0, $"minting-client.mjs exited {code}\nstdout: {stdout}\nstderr: {stderr}");
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        var result = JsonNode.Parse(line)!;
        Assert.True((bool)result["ok"]!);
        Assert.Equal("100000", (string?)result["created"]!["imx_mint_requests_limit"]);
        Assert.Equal("CONFLICT_ERROR", (string?)result["conflict"]);
        Assert.StartsWith("js ", (string?)result["got"], StringComparison.Ordinal);
        Assert.Contains("/", (string)result["got"]!, StringComparison.Ordinal);
    }

    /// <summary>./test installs tests/js (scripts/setup.sh); a bare `dotnet test` installs it here.</summary>
    private static async Task EnsureNodeModulesAsync()
    {
        if (Directory.Exists(Path.Combine(JsDir, "node_modules", "@imtbl", "blockchain-data")))
        {
            return;
        }
        var (code, stdout, stderr) = await RunAsync("npm", JsDir, "ci", "--ignore-scripts", "--no-fund", "--no-audit", "--loglevel=error");
        Assert.True(code == 0,
            $"`npm ci` in {JsDir} failed ({code}){(TestEnvironment.IsCi ? " under CI=true" : "")}: install Node 20+ and npm, then run ./test (or npm ci in tests/js).\n{stdout}\n{stderr}");
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["JEST_WORKER_ID"] = "1";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within 3 minutes");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
