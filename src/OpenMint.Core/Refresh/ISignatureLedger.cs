namespace OpenMint.Core.Refresh;

/// <summary>
/// Refresh API signatures already spent on a POST, shared by every instance through the store, so a captured
/// (address, timestamp, signature) creates at most one refresh however often it is replayed within its window.
/// </summary>
public interface ISignatureLedger
{
    /// <summary>Records <paramref name="signature"/> until <paramref name="expiresAt"/>; false when it was already recorded.</summary>
    /// <param name="signature">Canonical form: lower case, v as 00/01.</param>
    Task<bool> TryUseAsync(string signature, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken ct);
}
