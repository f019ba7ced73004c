namespace OpenMint.Core.Minting;

/// <summary>Intake and reads of the Minting API. The pipeline's claims and status changes live in its own interface.</summary>
public interface IMintStore
{
    /// <summary>
    /// All or nothing, in one store transaction: checks conflicts with existing requests and tokens,
    /// counts the project's per-minute limit, replaces failed requests with the same reference ids,
    /// inserts every asset as pending and appends one mint_event per asset. Durable when it returns Accepted.
    /// </summary>
    Task<MintIntakeOutcome> AcceptMintRequestsAsync(MintIntake intake, CancellationToken ct);

    Task<MintRequestRecord?> GetMintRequestAsync(long collectionId, string referenceId, CancellationToken ct);

    /// <summary>Newest first. <paramref name="cursor"/> is an opaque value from an earlier page; throws <see cref="FormatException"/> when it is not one.</summary>
    Task<MintRequestPage> ListMintRequestsAsync(long collectionId, MintStatus? status, string? cursor, int pageSize, CancellationToken ct);

    Task<TokenRecord?> GetTokenAsync(long collectionId, string tokenId, CancellationToken ct);
}
