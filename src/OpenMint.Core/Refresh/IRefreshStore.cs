namespace OpenMint.Core.Refresh;

/// <summary>Metadata refreshes in the store: the API side (create, read) and the worker side (claim, complete).</summary>
public interface IRefreshStore
{
    /// <summary>Every collection with this address, on any chain, with its project's owner.</summary>
    Task<IReadOnlyList<RefreshCollection>> FindCollectionsByAddressAsync(string address, CancellationToken ct);

    /// <summary>Inserts the refresh and one pending row per token in one transaction.</summary>
    Task<RefreshJob> CreateRefreshAsync(NewRefresh refresh, CancellationToken ct);

    Task<RefreshJob?> GetRefreshAsync(Guid refreshId, CancellationToken ct);

    /// <summary>Refreshes of projects owned by <paramref name="ownerAddress"/>, newest first, older than <paramref name="beforeSeq"/>.</summary>
    Task<RefreshPage<RefreshJob>> ListRefreshesAsync(string ownerAddress, string? collectionAddress, long? beforeSeq, int pageSize, CancellationToken ct);

    /// <summary>Failed tokens of one refresh in token order, after <paramref name="afterId"/>.</summary>
    Task<RefreshPage<RefreshErrorItem>> ListRefreshErrorsAsync(long refreshSeq, long? afterId, int pageSize, CancellationToken ct);

    /// <summary>Leases the oldest refresh still waiting for its base URI (or one whose resolver died).</summary>
    Task<RefreshToStart?> ClaimRefreshToStartAsync(string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct);

    /// <summary>Records the base URI and opens the refresh's tokens for fetching.</summary>
    Task MarkRefreshStartedAsync(long seq, string owner, string baseUri, DateTimeOffset now, CancellationToken ct);

    /// <summary>The base URI could not be read: every pending token fails with <paramref name="errorCode"/>.</summary>
    Task FailRefreshAtStartAsync(long seq, string owner, string errorCode, string url, string? body, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Leases pending tokens of started refreshes (and tokens whose lease expired) fairly: round-robin over the projects
    /// with such refreshes, least recently served first, <see cref="TokenClaim.TurnSize"/> tokens per refresh per turn
    /// (see <see cref="ClaimPlanner"/>). Each refresh remembers when it was last served, across instances. Two instances
    /// never hold the same token (SQLite: one writer; PostgreSQL: SKIP LOCKED).
    /// </summary>
    Task<IReadOnlyList<ClaimedToken>> ClaimTokensAsync(TokenClaim claim, CancellationToken ct);

    /// <summary>
    /// Writes outcomes in one transaction: token metadata on success, the token row, the refresh counters.
    /// Outcomes for tokens this owner no longer holds are ignored.
    /// </summary>
    Task CompleteTokensAsync(string owner, IReadOnlyList<TokenOutcome> outcomes, DateTimeOffset now, CancellationToken ct);

    /// <summary>Gives back every claim this owner holds (graceful stop), so another instance resumes at once.</summary>
    Task ReleaseClaimsAsync(string owner, CancellationToken ct);
}
