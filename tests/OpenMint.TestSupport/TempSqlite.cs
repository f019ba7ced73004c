namespace OpenMint.TestSupport;

/// <summary>Fresh SQLite file paths under .tmp/test-db in the repository (git-ignored; ./test clears it).</summary>
public static class TempSqlite
{
    /// <summary>A path to a file that does not exist yet; <paramref name="label"/> helps find it when a test fails.</summary>
    public static string NewPath(string label = "test")
    {
        var dir = Path.Combine(TestEnvironment.RepoRoot, ".tmp", "test-db");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, $"{label}-{Guid.NewGuid():N}.db");
    }

    /// <summary>A fresh <c>--database</c> value: <c>sqlite:&lt;new path&gt;</c>.</summary>
    public static string NewDatabaseValue(string label = "test") => "sqlite:" + NewPath(label);
}
