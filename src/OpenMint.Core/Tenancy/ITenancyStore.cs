namespace OpenMint.Core.Tenancy;

/// <summary>Chains, projects, API keys and collections.</summary>
public interface ITenancyStore
{
    Task<ChainConfig?> GetChainAsync(string name, CancellationToken ct);
    Task<IReadOnlyList<ChainConfig>> ListChainsAsync(CancellationToken ct);
    Task UpsertChainAsync(ChainConfig chain, CancellationToken ct);

    Task<Project?> GetProjectAsync(string projectId, CancellationToken ct);
    Task<IReadOnlyList<Project>> ListProjectsAsync(CancellationToken ct);
    Task CreateProjectAsync(Project project, CancellationToken ct);
    Task UpdateProjectAsync(Project project, CancellationToken ct);

    /// <summary>Stores a key by its hash; the secret itself is never stored.</summary>
    Task CreateApiKeyAsync(ApiKey key, byte[] secretHash, CancellationToken ct);
    /// <summary>Returns the key whose hash matches (constant-time compare), unless revoked.</summary>
    Task<ApiKey?> FindApiKeyAsync(string secret, CancellationToken ct);
    Task<bool> RevokeApiKeyAsync(string keyId, CancellationToken ct);
    Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(string projectId, CancellationToken ct);

    Task<Collection?> GetCollectionAsync(string chainName, string address, CancellationToken ct);
    Task<Collection?> GetCollectionByIdAsync(long id, CancellationToken ct);
    Task<IReadOnlyList<Collection>> ListCollectionsAsync(string? projectId, CancellationToken ct);
    /// <summary>Inserts; returns the stored collection with its id.</summary>
    Task<Collection> AddCollectionAsync(Collection collection, CancellationToken ct);
    Task UpdateCollectionAsync(Collection collection, CancellationToken ct);
}
