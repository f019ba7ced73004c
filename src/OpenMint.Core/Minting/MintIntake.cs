using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Minting;

/// <summary>One validated asset of a create request. Ids and amounts are canonical uint256 decimals; the address is lower-case.</summary>
/// <param name="TokenId">Null for an ERC721 mint by quantity.</param>
/// <param name="Amount">ERC1155 only; null on ERC721.</param>
/// <param name="MetadataJson">The metadata object, compact JSON, or null.</param>
public sealed record MintAsset(string ReferenceId, string OwnerAddress, string? TokenId, string? Amount, string? MetadataJson);

/// <summary>A validated create request on its way into the store.</summary>
/// <param name="RateUnits">What the request counts against the per-minute limit: distinct token ids (plus by-quantity assets).</param>
public sealed record MintIntake(Collection Collection, ChainConfig Chain, IReadOnlyList<MintAsset> Assets, long RateLimitPerMinute, long RateUnits);

/// <summary>The per-minute mint window of a project, after a create request was counted (or refused).</summary>
/// <param name="WindowEnd">When the window rolls over.</param>
public sealed record MintQuota(long Limit, long Used, DateTimeOffset WindowEnd)
{
    public long Remaining => Math.Max(0, Limit - Used);
}

/// <summary>What the store made of a create request. Expected outcomes are values.</summary>
public abstract record MintIntakeOutcome
{
    private MintIntakeOutcome() { }

    /// <summary>Every asset stored as pending, durably.</summary>
    public sealed record Accepted(MintQuota Quota) : MintIntakeOutcome;

    /// <summary>Nothing stored: the per-minute limit would be exceeded.</summary>
    public sealed record RateLimited(MintQuota Quota) : MintIntakeOutcome;

    /// <summary>Nothing stored: a 409 of docs/api.md (message and the field/values of <c>details</c>).</summary>
    public sealed record Conflict(string Message, string Field, IReadOnlyList<string> Values) : MintIntakeOutcome;
}

/// <summary>One page of mint requests, newest first.</summary>
public sealed record MintRequestPage(IReadOnlyList<MintRequestRecord> Items, string? PreviousCursor, string? NextCursor);

/// <summary>What OpenMint knows of one token (table token).</summary>
public sealed record TokenRecord(long CollectionId, string TokenId, string? OwnerAddress, string? MetadataJson, DateTimeOffset? MetadataSyncedAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
