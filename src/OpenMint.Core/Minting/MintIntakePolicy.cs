using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Minting;

/// <summary>An existing request of the collection that holds one of a create request's reference ids.</summary>
public readonly record struct ExistingReference(long Id, string ReferenceId, MintStatus Status);

/// <summary>A pending or succeeded request of the collection for one of the checked token ids.</summary>
public readonly record struct RequestedToken(string TokenId, MintStatus Status);

/// <summary>
/// The business rules of intake (docs/api.md, create mint requests), kept apart from the SQL that looks the facts up:
/// which token ids can conflict, which existing requests make a 409 and with which message and details, which
/// failed requests a new request replaces, and the per-minute window requests count against.
/// The order of checks is the store's: reference ids first, then token ids, then the rate limit.
/// </summary>
public static class MintIntakePolicy
{
    /// <summary>The length of the per-minute mint window.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    /// <summary>The rate-limit scope of a project's mints (shared with every instance through rate_window).</summary>
    public static string RateScope(string projectId) => "mint:" + projectId;

    /// <summary>
    /// The distinct token ids that may conflict with existing requests or tokens, in request order. ERC721: every
    /// given id; ERC1155: only ids given with metadata (metadata on an id that already exists is refused).
    /// </summary>
    public static string[] CheckedTokenIds(Collection collection, IReadOnlyList<MintAsset> assets)
    {
        if (assets.Count == 1)
        {
            // The common single-asset request: no list or set to build.
            return IsChecked(collection, assets[0]) ? [assets[0].TokenId!] : [];
        }
        var ids = new List<string>(assets.Count);
        HashSet<string>? seen = null;
        foreach (var a in assets)
        {
            if (!IsChecked(collection, a))
            {
                continue;
            }
            seen ??= new HashSet<string>(StringComparer.Ordinal);
            if (seen.Add(a.TokenId!))
            {
                ids.Add(a.TokenId!);
            }
        }
        return ids.ToArray();
    }

    private static bool IsChecked(Collection collection, MintAsset asset) =>
        asset.TokenId is not null && (collection.Kind != CollectionKind.Erc1155 || asset.MetadataJson is not null);

    /// <summary>A pending or succeeded request holding one of the reference ids is a 409; a failed one may be replaced.</summary>
    /// <param name="referenceIds">The request's reference ids, in request order (the order of the 409's values).</param>
    public static MintIntakeOutcome.Conflict? ReferenceConflict(IReadOnlyList<string> referenceIds, IReadOnlyList<ExistingReference> existing)
    {
        var taken = existing.Where(e => e.Status != MintStatus.Failed).Select(e => e.ReferenceId).ToHashSet(StringComparer.Ordinal);
        if (taken.Count == 0)
        {
            return null;
        }
        var ordered = referenceIds.Where(taken.Contains).ToList();
        return new MintIntakeOutcome.Conflict($"there are already mint requests for reference_ids: {string.Join(", ", ordered)}", "reference_id", ordered);
    }

    /// <summary>The failed requests a new request replaces (their rows go, the new ones take their reference ids).</summary>
    public static long[] Replaced(IReadOnlyList<ExistingReference> existing) =>
        existing.Where(e => e.Status == MintStatus.Failed).Select(e => e.Id).ToArray();

    /// <summary>
    /// Minted tokens (known, or a succeeded request) conflict on both kinds; on ERC721 a pending request for the id does too.
    /// </summary>
    /// <param name="checkedTokenIds">From <see cref="CheckedTokenIds"/>, in request order (the order of the 409's values).</param>
    /// <param name="minted">Token ids already in the token table.</param>
    public static MintIntakeOutcome.Conflict? TokenConflict(Collection collection, IReadOnlyList<string> checkedTokenIds,
        IReadOnlyList<RequestedToken> requested, IReadOnlyList<string> minted)
    {
        if (requested.Count == 0 && minted.Count == 0)
        {
            return null;
        }
        var mintedIds = minted.ToHashSet(StringComparer.Ordinal);
        mintedIds.UnionWith(requested.Where(r => r.Status == MintStatus.Succeeded).Select(r => r.TokenId));
        if (mintedIds.Count > 0)
        {
            var values = checkedTokenIds.Where(mintedIds.Contains).ToList();
            var suffix = collection.Kind == CollectionKind.Erc1155 ? ", no metadata allowed" : "";
            return new MintIntakeOutcome.Conflict($"token_ids already minted: {string.Join(", ", values)}{suffix}", "token_id", values);
        }
        if (collection.Kind == CollectionKind.Erc721)
        {
            var pending = requested.Select(r => r.TokenId).ToHashSet(StringComparer.Ordinal);
            if (pending.Count > 0)
            {
                var values = checkedTokenIds.Where(pending.Contains).ToList();
                return new MintIntakeOutcome.Conflict($"there are already mint requests for token_ids: {string.Join(", ", values)}", "token_id", values);
            }
        }
        return null;
    }
}
