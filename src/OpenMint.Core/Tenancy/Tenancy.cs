namespace OpenMint.Core.Tenancy;

/// <summary>An EVM chain OpenMint mints on. <paramref name="Name"/> is the path segment clients use.</summary>
/// <param name="MinterKeyRef">
/// Where the (first) minter wallet's private key lives: <c>file:/path</c> or <c>env:VAR</c>. Keys never enter the store.
/// A chain may have several wallets: <see cref="MinterKeyRefs"/> lists them all, starting with this one.
/// </param>
/// <param name="Confirmations">Blocks on top of a receipt before a mint counts as succeeded.</param>
public sealed record ChainConfig(
    string Name,
    long ChainId,
    IReadOnlyList<string> RpcUrls,
    string? MinterKeyRef,
    int Confirmations,
    DateTimeOffset CreatedAt)
{
    /// <summary>Every minter wallet's key reference, the first being <see cref="MinterKeyRef"/> (see <see cref="Minters"/>).</summary>
    public IReadOnlyList<string> MinterKeyRefs { get; init; } = [];

    /// <summary>
    /// The wallets the chain mints with, in order: <see cref="MinterKeyRefs"/> when it starts with <see cref="MinterKeyRef"/>,
    /// otherwise just <see cref="MinterKeyRef"/> (a config built or changed with the single reference alone); none without it.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> Minters => MinterKeyRef is null ? []
        : MinterKeyRefs.Count > 0 && MinterKeyRefs[0] == MinterKeyRef ? MinterKeyRefs : [MinterKeyRef];

    /// <summary>The same chain minting with exactly <paramref name="refs"/> (none: it cannot mint).</summary>
    public ChainConfig WithMinters(IReadOnlyList<string> refs) => this with { MinterKeyRef = refs.Count == 0 ? null : refs[0], MinterKeyRefs = refs };

    /// <summary>Decimal wei below which a wallet of this chain counts as low on funds (a warning, a metric, a notice); null: no threshold.</summary>
    public string? LowBalanceWei { get; init; }

    /// <summary>
    /// Where the treasury wallet's key lives (<c>file:/path</c> or <c>env:VAR</c>, never the key): it tops each minter wallet
    /// up to <see cref="TopUpToWei"/> when the wallet's balance falls below <see cref="LowBalanceWei"/>. Null: no treasury.
    /// </summary>
    public string? TreasuryKeyRef { get; init; }

    /// <summary>Decimal wei a treasury top-up brings a minter wallet to (set together with <see cref="TreasuryKeyRef"/>).</summary>
    public string? TopUpToWei { get; init; }

    /// <summary>Writes the wire's <c>"chain": {"id": "eip155:&lt;chain id&gt;", "name": ...}</c> object.</summary>
    public void WriteJson(System.Text.Json.Utf8JsonWriter w, string propertyName = "chain")
    {
        w.WriteStartObject(propertyName);
        w.WriteString("id", "eip155:" + ChainId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteString("name", Name);
        w.WriteEndObject();
    }
}

public sealed record Project(
    string Id,
    string Name,
    string OwnerAddress,
    int MintLimitPerMinute,
    int RefreshRequestsPerSecond,
    int RefreshTokensPerHour,
    int RefreshMaxTokensPerRequest,
    DateTimeOffset CreatedAt)
{
    public const int DefaultMintLimitPerMinute = 2000;
    public const int DefaultRefreshRequestsPerSecond = 5;
    public const int DefaultRefreshTokensPerHour = 30_000;
    public const int DefaultRefreshMaxTokensPerRequest = 1000;
}

public sealed record ApiKey(string Id, string ProjectId, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

public enum CollectionKind { Erc721, Erc1155 }

/// <summary>Which preset a collection is; decides the mint call and how ids come back.</summary>
public enum PresetVariant { Unknown, Erc721V2, Erc721V1, Erc721MintById, Erc1155 }

/// <param name="Id">Store key; mint requests, tokens and refreshes point at it.</param>
/// <param name="Address">Lower-case 0x address.</param>
public sealed record Collection(
    long Id,
    string ChainName,
    string Address,
    string ProjectId,
    CollectionKind Kind,
    PresetVariant Variant,
    string? BaseUriOverride,
    bool MintingEnabled,
    DateTimeOffset CreatedAt);
