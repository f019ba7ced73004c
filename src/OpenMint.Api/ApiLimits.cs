namespace OpenMint.Api;

internal static class ApiLimits
{
    /// <summary>Largest request body Kestrel accepts; 100 assets × 16 KiB metadata fit with room to spare.</summary>
    public const int MaxRequestBodyBytes = 2 * 1024 * 1024;
}
