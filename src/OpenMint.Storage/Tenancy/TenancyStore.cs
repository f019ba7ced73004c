using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Tenancy;

/// <summary>Chains, projects, API keys (by hash, <see cref="ApiKeySecrets"/>) and collections.</summary>
internal sealed class TenancyStore(Database db, TimeProvider time) : ITenancyStore
{
    private const string ChainColumns = "name AS Name, chain_id AS ChainId, rpc_urls AS RpcUrls, minter_key_ref AS MinterKeyRef, confirmations AS Confirmations, created_at AS CreatedAt, low_balance_wei AS LowBalanceWei, treasury_key_ref AS TreasuryKeyRef, top_up_to_wei AS TopUpToWei";
    private const string ProjectColumns = "id AS Id, name AS Name, owner_address AS OwnerAddress, mint_limit_per_minute AS MintLimitPerMinute, refresh_requests_per_second AS RefreshRequestsPerSecond, refresh_tokens_per_hour AS RefreshTokensPerHour, refresh_max_tokens_per_request AS RefreshMaxTokensPerRequest, created_at AS CreatedAt";
    private const string CollectionColumns = "id AS Id, chain_name AS ChainName, address AS Address, project_id AS ProjectId, kind AS Kind, variant AS Variant, base_uri_override AS BaseUriOverride, minting_enabled AS MintingEnabled, created_at AS CreatedAt";
    private const string ApiKeyColumns = "id AS Id, project_id AS ProjectId, prefix AS Prefix, created_at AS CreatedAt, revoked_at AS RevokedAt";

    public async Task<ChainConfig?> GetChainAsync(string name, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<ChainRow>(new CommandDefinition($"SELECT {ChainColumns} FROM chain WHERE name = @name", new { name }, cancellationToken: ct)).ConfigureAwait(false);
        return row is null ? null : (await WithMintersAsync(c, [row.ToModel()], ct).ConfigureAwait(false))[0];
    }

    public async Task<IReadOnlyList<ChainConfig>> ListChainsAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<ChainRow>(new CommandDefinition($"SELECT {ChainColumns} FROM chain ORDER BY name", cancellationToken: ct)).ConfigureAwait(false);
        return await WithMintersAsync(c, rows.Select(r => r.ToModel()).ToList(), ct).ConfigureAwait(false);
    }

    /// <summary>The chains with their wallets (<c>chain_minter</c>, in order); a chain without rows keeps its single minter_key_ref.</summary>
    private static async Task<IReadOnlyList<ChainConfig>> WithMintersAsync(System.Data.Common.DbConnection c, IReadOnlyList<ChainConfig> chains, CancellationToken ct)
    {
        if (chains.Count == 0)
        {
            return chains;
        }
        var rows = await c.QueryAsync<(string ChainName, string KeyRef)>(new CommandDefinition(
            "SELECT chain_name, key_ref FROM chain_minter ORDER BY chain_name, position", cancellationToken: ct)).ConfigureAwait(false);
        var byChain = rows.GroupBy(r => r.ChainName).ToDictionary(g => g.Key, g => g.Select(r => r.KeyRef).ToList());
        return chains.Select(ch => byChain.TryGetValue(ch.Name, out var refs) ? ch.WithMinters(refs) : ch).ToList();
    }

    /// <summary>Writes the chain and replaces its wallets with <see cref="ChainConfig.Minters"/>, in one transaction.</summary>
    public async Task UpsertChainAsync(ChainConfig chain, CancellationToken ct)
    {
        var minters = chain.Minters;
        var now = Time.ToWire(time.GetUtcNow());
        await db.InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO chain (name, chain_id, rpc_urls, minter_key_ref, confirmations, created_at, low_balance_wei, treasury_key_ref, top_up_to_wei)
                VALUES (@Name, @ChainId, @RpcUrls, @MinterKeyRef, @Confirmations, @CreatedAt, @LowBalanceWei, @TreasuryKeyRef, @TopUpToWei)
                ON CONFLICT (name) DO UPDATE SET chain_id = excluded.chain_id, rpc_urls = excluded.rpc_urls,
                    minter_key_ref = excluded.minter_key_ref, confirmations = excluded.confirmations, low_balance_wei = excluded.low_balance_wei,
                    treasury_key_ref = excluded.treasury_key_ref, top_up_to_wei = excluded.top_up_to_wei
                """,
                new
                {
                    chain.Name,
                    chain.ChainId,
                    RpcUrls = JsonSerializer.Serialize(chain.RpcUrls),
                    MinterKeyRef = minters.Count == 0 ? null : minters[0],
                    chain.Confirmations,
                    CreatedAt = Time.ToWire(chain.CreatedAt),
                    chain.LowBalanceWei,
                    chain.TreasuryKeyRef,
                    chain.TopUpToWei,
                }, tx, cancellationToken: ct)).ConfigureAwait(false);
            await c.ExecuteAsync(new CommandDefinition("DELETE FROM chain_minter WHERE chain_name = @Name", new { chain.Name }, tx, cancellationToken: ct)).ConfigureAwait(false);
            for (var i = 0; i < minters.Count; i++)
            {
                await c.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO chain_minter (chain_name, key_ref, position, added_at) VALUES (@Name, @keyRef, @i, @now)",
                    new { chain.Name, keyRef = minters[i], i, now }, tx, cancellationToken: ct)).ConfigureAwait(false);
            }
        }, ct).ConfigureAwait(false);
    }

    public async Task<Project?> GetProjectAsync(string projectId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<ProjectRow>(new CommandDefinition($"SELECT {ProjectColumns} FROM project WHERE id = @projectId", new { projectId }, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToModel();
    }

    public async Task<IReadOnlyList<Project>> ListProjectsAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<ProjectRow>(new CommandDefinition($"SELECT {ProjectColumns} FROM project ORDER BY created_at", cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).ToList();
    }

    public async Task CreateProjectAsync(Project project, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO project (id, name, owner_address, mint_limit_per_minute, refresh_requests_per_second, refresh_tokens_per_hour, refresh_max_tokens_per_request, created_at)
            VALUES (@Id, @Name, @OwnerAddress, @MintLimitPerMinute, @RefreshRequestsPerSecond, @RefreshTokensPerHour, @RefreshMaxTokensPerRequest, @CreatedAt)
            """,
            ProjectParams(project), cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task UpdateProjectAsync(Project project, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE project SET name = @Name, owner_address = @OwnerAddress, mint_limit_per_minute = @MintLimitPerMinute,
                refresh_requests_per_second = @RefreshRequestsPerSecond, refresh_tokens_per_hour = @RefreshTokensPerHour,
                refresh_max_tokens_per_request = @RefreshMaxTokensPerRequest
            WHERE id = @Id
            """,
            ProjectParams(project), cancellationToken: ct)).ConfigureAwait(false);
    }

    private static object ProjectParams(Project p) => new
    {
        p.Id,
        p.Name,
        OwnerAddress = p.OwnerAddress.ToLowerInvariant(),
        p.MintLimitPerMinute,
        p.RefreshRequestsPerSecond,
        p.RefreshTokensPerHour,
        p.RefreshMaxTokensPerRequest,
        CreatedAt = Time.ToWire(p.CreatedAt),
    };

    public async Task CreateApiKeyAsync(ApiKey key, byte[] secretHash, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO api_key (id, project_id, prefix, secret_hash, created_at, revoked_at) VALUES (@Id, @ProjectId, @Prefix, @secretHash, @CreatedAt, NULL)",
            new { key.Id, key.ProjectId, key.Prefix, secretHash, CreatedAt = Time.ToWire(key.CreatedAt) }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<ApiKey?> FindApiKeyAsync(string secret, CancellationToken ct)
    {
        var prefix = ApiKeySecrets.Prefix(secret);
        if (prefix is null)
        {
            return null;
        }
        var hash = ApiKeySecrets.Hash(secret);
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<ApiKeyHashRow>(new CommandDefinition(
            $"SELECT {ApiKeyColumns}, secret_hash AS SecretHash FROM api_key WHERE prefix = @prefix AND revoked_at IS NULL",
            new { prefix }, cancellationToken: ct)).ConfigureAwait(false);
        foreach (var row in rows)
        {
            if (CryptographicOperations.FixedTimeEquals(row.SecretHash, hash))
            {
                return row.ToModel();
            }
        }
        return null;
    }

    public async Task<bool> RevokeApiKeyAsync(string keyId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var n = await c.ExecuteAsync(new CommandDefinition(
            "UPDATE api_key SET revoked_at = @now WHERE id = @keyId AND revoked_at IS NULL",
            new { keyId, now = Time.ToWire(time.GetUtcNow()) }, cancellationToken: ct)).ConfigureAwait(false);
        return n > 0;
    }

    public async Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(string projectId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<ApiKeyRow>(new CommandDefinition(
            $"SELECT {ApiKeyColumns} FROM api_key WHERE project_id = @projectId ORDER BY created_at", new { projectId }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).ToList();
    }

    public async Task<Collection?> GetCollectionAsync(string chainName, string address, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<CollectionRow>(new CommandDefinition(
            $"SELECT {CollectionColumns} FROM collection WHERE chain_name = @chainName AND address = @address",
            new { chainName, address = address.ToLowerInvariant() }, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToModel();
    }

    public async Task<Collection?> GetCollectionByIdAsync(long id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<CollectionRow>(new CommandDefinition(
            $"SELECT {CollectionColumns} FROM collection WHERE id = @id", new { id }, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToModel();
    }

    public async Task<IReadOnlyList<Collection>> ListCollectionsAsync(string? projectId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<CollectionRow>(new CommandDefinition(
            $"SELECT {CollectionColumns} FROM collection WHERE @projectId IS NULL OR project_id = @projectId ORDER BY id",
            new { projectId }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).ToList();
    }

    public async Task<Collection> AddCollectionAsync(Collection collection, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var id = await c.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO collection (chain_name, address, project_id, kind, variant, base_uri_override, minting_enabled, created_at)
            VALUES (@ChainName, @Address, @ProjectId, @Kind, @Variant, @BaseUriOverride, @MintingEnabled, @CreatedAt)
            RETURNING id
            """,
            CollectionParams(collection), cancellationToken: ct)).ConfigureAwait(false);
        return collection with { Id = id, Address = collection.Address.ToLowerInvariant() };
    }

    public async Task UpdateCollectionAsync(Collection collection, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE collection SET project_id = @ProjectId, kind = @Kind, variant = @Variant,
                base_uri_override = @BaseUriOverride, minting_enabled = @MintingEnabled
            WHERE id = @Id
            """,
            CollectionParams(collection), cancellationToken: ct)).ConfigureAwait(false);
    }

    private object CollectionParams(Collection x) => new
    {
        x.Id,
        x.ChainName,
        Address = x.Address.ToLowerInvariant(),
        x.ProjectId,
        Kind = x.Kind == CollectionKind.Erc721 ? "erc721" : "erc1155",
        Variant = x.Variant.ToString(),
        x.BaseUriOverride,
        MintingEnabled = db.Dialect.Bool(x.MintingEnabled),
        CreatedAt = Time.ToWire(x.CreatedAt),
    };

    private sealed class ChainRow
    {
        public string Name { get; set; } = "";
        public long ChainId { get; set; }
        public string RpcUrls { get; set; } = "[]";
        public string? MinterKeyRef { get; set; }
        public int Confirmations { get; set; }
        public string CreatedAt { get; set; } = "";
        public string? LowBalanceWei { get; set; }
        public string? TreasuryKeyRef { get; set; }
        public string? TopUpToWei { get; set; }

        public ChainConfig ToModel() => new(Name, ChainId, JsonSerializer.Deserialize<string[]>(RpcUrls) ?? [], MinterKeyRef, Confirmations, Time.FromWire(CreatedAt))
        {
            LowBalanceWei = LowBalanceWei,
            TreasuryKeyRef = TreasuryKeyRef,
            TopUpToWei = TopUpToWei,
        };
    }

    private sealed class ProjectRow
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public string OwnerAddress { get; set; } = "";
        public int MintLimitPerMinute { get; set; }
        public int RefreshRequestsPerSecond { get; set; }
        public int RefreshTokensPerHour { get; set; }
        public int RefreshMaxTokensPerRequest { get; set; }
        public string CreatedAt { get; set; } = "";

        public Project ToModel() => new(Id, Name, OwnerAddress, MintLimitPerMinute, RefreshRequestsPerSecond, RefreshTokensPerHour, RefreshMaxTokensPerRequest, Time.FromWire(CreatedAt));
    }

    private class ApiKeyRow
    {
        public string Id { get; set; } = "";
        public string ProjectId { get; set; } = "";
        public string Prefix { get; set; } = "";
        public string CreatedAt { get; set; } = "";
        public string? RevokedAt { get; set; }

        public ApiKey ToModel() => new(Id, ProjectId, Prefix, Time.FromWire(CreatedAt), RevokedAt is null ? null : Time.FromWire(RevokedAt));
    }

    private sealed class ApiKeyHashRow : ApiKeyRow
    {
        public byte[] SecretHash { get; set; } = [];
    }

    private sealed class CollectionRow
    {
        public long Id { get; set; }
        public string ChainName { get; set; } = "";
        public string Address { get; set; } = "";
        public string ProjectId { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Variant { get; set; } = "";
        public string? BaseUriOverride { get; set; }
        public bool MintingEnabled { get; set; }
        public string CreatedAt { get; set; } = "";

        public Collection ToModel() => new(
            Id, ChainName, Address, ProjectId,
            Kind == "erc1155" ? CollectionKind.Erc1155 : CollectionKind.Erc721,
            Enum.TryParse<PresetVariant>(Variant, out var v) ? v : PresetVariant.Unknown,
            BaseUriOverride, MintingEnabled, Time.FromWire(CreatedAt));
    }
}
