using System.Diagnostics;
using System.Text.Json.Nodes;

namespace OpenMint.TestSupport.ScaleOut;

/// <summary>The built <c>openmint</c> command (openmint.dll next to the caller) run as an operator would, with <c>--json</c>.</summary>
public static class OpenMintCli
{
    public static async Task<JsonNode> RunJsonAsync(IEnumerable<string> args, CancellationToken ct)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "openmint.dll"));
        foreach (var a in args.Append("--json"))
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"openmint {start.ArgumentList[1]} {start.ArgumentList[2]} exited {process.ExitCode}: {await stderr}{await stdout}");
        }
        return JsonNode.Parse(await stdout) ?? throw new InvalidOperationException("openmint printed no JSON");
    }
}
