namespace OpenMint.DevChain;

/// <summary>Locates tools/chain (Anvil binary and compiled preset artifacts) installed by scripts/setup.sh.</summary>
public static class ChainTools
{
    public const string AnvilRelativePath = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";
    public const string HowToInstall = "Run ./test or ./openmint dev at the repository root once (they install tools/chain with npm and compile the presets).";

    /// <summary>tools/chain under the repository: env OPENMINT_CHAIN_TOOLS, else searched upwards from the current directory and from this assembly.</summary>
    public static string? FindToolsDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable("OPENMINT_CHAIN_TOOLS");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return Directory.Exists(fromEnv) ? Path.GetFullPath(fromEnv) : null;
        }
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tools", "chain");
                if (File.Exists(Path.Combine(candidate, "package.json")))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    /// <summary>The anvil binary, or null when not installed.</summary>
    public static string? FindAnvil()
    {
        var fromEnv = Environment.GetEnvironmentVariable("OPENMINT_ANVIL");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return File.Exists(fromEnv) ? fromEnv : null;
        }
        var tools = FindToolsDirectory();
        var path = tools is null ? null : Path.Combine(tools, AnvilRelativePath);
        return path is not null && File.Exists(path) ? path : null;
    }

    /// <summary>tools/chain/artifacts, or null when the presets are not compiled.</summary>
    public static string? FindArtifactsDirectory()
    {
        var tools = FindToolsDirectory();
        var dir = tools is null ? null : Path.Combine(tools, "artifacts");
        return dir is not null && File.Exists(Path.Combine(dir, ".inputs-hash")) ? dir : null;
    }
}
