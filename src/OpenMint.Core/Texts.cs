namespace OpenMint.Core;

/// <summary>Length limits for text that goes into error messages and stored diagnostics.</summary>
public static class Texts
{
    /// <summary>How much of a client-sent value an error message quotes.</summary>
    public const int QuoteLength = 80;

    /// <summary>A client-sent value quoted in an error message: at most <paramref name="max"/> characters, "..." when cut.</summary>
    public static string Shorten(string value, int max = QuoteLength) =>
        value.Length <= max ? value : string.Concat(value.AsSpan(0, max), "...");

    /// <summary>At most <paramref name="max"/> characters, cut without a marker (stored diagnostics with a size budget).</summary>
    public static string Cut(string value, int max) => value.Length <= max ? value : value[..max];
}
