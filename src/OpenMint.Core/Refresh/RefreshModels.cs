namespace OpenMint.Core.Refresh;

/// <summary>The metadata refresh error codes of docs/api.md, exactly as they travel.</summary>
public static class RefreshErrorCodes
{
    public const string UnableToRetrieveMetadata = "unable_to_retrieve_metadata";
    public const string InvalidResponseStatusCode = "invalid_response_status_code";
    public const string UnableToDecodeResponse = "unable_to_decode_response";
    public const string TokenNotFound = "token_not_found";
}

public enum RefreshStatus { Queued, InProgress, Completed }

/// <summary>A collection the refresh API found by address, with the owner of its project.</summary>
public sealed record RefreshCollection(long CollectionId, string ChainName, string Address, string ProjectId, string OwnerAddress, Tenancy.CollectionKind Kind, string? BaseUriOverride);

/// <summary>What a POST accepted: canonical token ids, in request order.</summary>
public sealed record NewRefresh(Guid RefreshId, RefreshCollection Collection, IReadOnlyList<string> TokenIds, DateTimeOffset CreatedAt);

/// <summary>One refresh as the status and list endpoints show it.</summary>
public sealed record RefreshJob(
    long Seq,
    Guid RefreshId,
    string ProjectId,
    string OwnerAddress,
    long CollectionId,
    string CollectionAddress,
    int TokenCount,
    int Succeeded,
    int Failed,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt)
{
    public int Pending => TokenCount - Succeeded - Failed;

    public RefreshStatus Status =>
        Succeeded + Failed == 0 ? RefreshStatus.Queued
        : Succeeded + Failed >= TokenCount ? RefreshStatus.Completed
        : RefreshStatus.InProgress;
}

/// <summary>A failed token of a refresh (the errors page).</summary>
public sealed record RefreshErrorItem(long Id, string TokenId, string CollectionAddress, string Url, int? StatusCode, string? Body, string ErrorCode, DateTimeOffset CreatedAt);

/// <summary>A page in store order; <paramref name="HasMore"/> drives <c>remaining</c>.</summary>
public sealed record RefreshPage<T>(IReadOnlyList<T> Items, bool HasMore);

/// <summary>A refresh whose base URI this worker must resolve before its tokens can be fetched.</summary>
public sealed record RefreshToStart(long Seq, Guid RefreshId, long CollectionId, string ChainName, string CollectionAddress, Tenancy.CollectionKind Kind, string? BaseUriOverride, string FirstTokenId);

/// <summary>
/// A started refresh with tokens waiting, as a claim sees it: <paramref name="BaseUri"/> gives its origin;
/// <paramref name="LastServed"/> orders turns (0: never served; larger: served more recently).
/// </summary>
public sealed record ClaimCandidate(long Seq, string ProjectId, string BaseUri, long LastServed);

/// <summary>
/// One claim of tokens: at most <paramref name="Max"/> in all, handed out in turns of at most <paramref name="TurnSize"/>
/// per refresh, going round the projects (least recently served first) and, within a project, round its refreshes.
/// </summary>
public sealed record TokenClaim(string Owner, int Max, int TurnSize, DateTimeOffset Now, TimeSpan Lease)
{
    /// <summary>
    /// How many of the tokens a turn offers this refresh the caller takes (0 ends the refresh's turns in this claim);
    /// null takes every offer. The worker uses it to stop claiming for an origin whose queue here is full.
    /// </summary>
    public Func<ClaimCandidate, int, int>? Budget { get; init; }
}

/// <summary>A token this worker holds a lease on. <paramref name="Known"/>: the token table has it.</summary>
public sealed record ClaimedToken(long Id, long RefreshSeq, long CollectionId, string TokenId, string BaseUri, bool Known);

/// <summary>How fetching one token ended. <paramref name="Metadata"/> is the JSON object text on success.</summary>
public sealed record TokenOutcome(
    long Id,
    long RefreshSeq,
    long CollectionId,
    string TokenId,
    bool Succeeded,
    string Url,
    int? StatusCode,
    string? Body,
    string? ErrorCode,
    string? Metadata);
