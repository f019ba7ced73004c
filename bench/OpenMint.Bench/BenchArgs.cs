using System.Globalization;

namespace OpenMint.Bench;

/// <summary>The benchmarks' one option reader: <c>--name N</c>, or the fallback when absent.</summary>
internal static class BenchArgs
{
    public static int Int(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
