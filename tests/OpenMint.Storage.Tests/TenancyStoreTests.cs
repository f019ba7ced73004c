using System.Data.Common;
using Dapper;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Tests;

/// <summary>Chains, projects, API keys and collections (ITenancyStore), written once and run on each backend.</summary>
public abstract class TenancyStoreTests<TBackend>(TBackend backend) : StoreSuite<TBackend>(backend) where TBackend : class, IStoreBackend
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private readonly CancellationToken _ct = CancellationToken.None;

    private async Task<Project> NewProjectAsync()
    {
        var p = new Project(Unique("p"), "Project", "0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266", 100, 5, 30_000, 1000, T0);
        await Store.Tenancy.CreateProjectAsync(p, _ct);
        return p;
    }

    private async Task<ChainConfig> NewChainAsync()
    {
        var chain = new ChainConfig(Unique("chain"), 31337, ["http://127.0.0.1:8545"], "file:/keys/minter", 0, T0);
        await Store.Tenancy.UpsertChainAsync(chain, _ct);
        return chain;
    }

    [Fact]
    public async Task migrating_again_applies_nothing()
    {
        Assert.Empty(await Store.Database.MigrateAsync(_ct));
    }

    [Fact]
    public async Task a_chain_is_inserted_then_updated_by_name()
    {
        var chain = await NewChainAsync();
        Assert.Equal(chain with { RpcUrls = chain.RpcUrls }, await Store.Tenancy.GetChainAsync(chain.Name, _ct), ChainEquals);
        var updated = chain with { ChainId = 13473, RpcUrls = ["http://a", "http://b"], MinterKeyRef = "env:MINTER_KEY", Confirmations = 3 };
        await Store.Tenancy.UpsertChainAsync(updated, _ct);
        Assert.Equal(updated, await Store.Tenancy.GetChainAsync(chain.Name, _ct), ChainEquals);
        Assert.Contains(await Store.Tenancy.ListChainsAsync(_ct), c => c.Name == chain.Name && c.ChainId == 13473);
        Assert.Null(await Store.Tenancy.GetChainAsync(Unique("missing"), _ct));
    }

    [Fact]
    public async Task a_chain_keeps_several_minter_wallets_in_order_with_the_first_as_minter_key_ref()
    {
        var chain = (await NewChainAsync()).WithMinters(["file:/keys/a", "env:MINTER_B", "file:/keys/c"]) with { LowBalanceWei = "100000000000000000" };
        await Store.Tenancy.UpsertChainAsync(chain, _ct);
        var read = (await Store.Tenancy.GetChainAsync(chain.Name, _ct))!;
        Assert.Equal(["file:/keys/a", "env:MINTER_B", "file:/keys/c"], read.Minters);
        Assert.Equal("file:/keys/a", read.MinterKeyRef);
        Assert.Equal("100000000000000000", read.LowBalanceWei);
        Assert.Equal(read.Minters, (await Store.Tenancy.ListChainsAsync(_ct)).Single(c => c.Name == chain.Name).Minters);

        // Set through the single reference alone (as before several wallets): that one wallet replaces them.
        await Store.Tenancy.UpsertChainAsync(read with { MinterKeyRef = "env:ONLY" }, _ct);
        Assert.Equal(["env:ONLY"], (await Store.Tenancy.GetChainAsync(chain.Name, _ct))!.Minters);
        await Store.Tenancy.UpsertChainAsync(read.WithMinters([]), _ct);
        var none = (await Store.Tenancy.GetChainAsync(chain.Name, _ct))!;
        Assert.Empty(none.Minters);
        Assert.Null(none.MinterKeyRef);
    }

    [Fact]
    public async Task a_chain_row_written_before_the_wallet_table_still_mints_with_its_minter_key_ref()
    {
        var name = Unique("legacy");
        await using (var c = await Store.Database.OpenConnectionAsync(_ct))
        {
            await c.ExecuteAsync(new CommandDefinition(
                "INSERT INTO chain (name, chain_id, rpc_urls, minter_key_ref, confirmations, created_at) VALUES (@name, 1, '[]', 'file:/keys/old', 0, @now)",
                new { name, now = Core.Time.ToWire(T0) }, cancellationToken: _ct));
        }
        Assert.Equal(["file:/keys/old"], (await Store.Tenancy.GetChainAsync(name, _ct))!.Minters);
    }

    [Fact]
    public async Task a_project_reads_back_with_a_lower_case_owner_and_can_be_updated()
    {
        var p = await NewProjectAsync();
        var read = await Store.Tenancy.GetProjectAsync(p.Id, _ct);
        Assert.Equal(p with { OwnerAddress = p.OwnerAddress.ToLowerInvariant() }, read);
        var changed = read! with { Name = "Renamed", MintLimitPerMinute = 7, RefreshTokensPerHour = 9 };
        await Store.Tenancy.UpdateProjectAsync(changed, _ct);
        Assert.Equal(changed, await Store.Tenancy.GetProjectAsync(p.Id, _ct));
        Assert.Contains(await Store.Tenancy.ListProjectsAsync(_ct), x => x.Id == p.Id);
    }

    [Fact]
    public async Task an_api_key_is_found_by_its_whole_secret_only_until_revoked()
    {
        var p = await NewProjectAsync();
        var secret = "sk_om_" + Guid.NewGuid().ToString("N");
        var key = new ApiKey(Unique("k"), p.Id, secret[..ApiKeySecrets.PrefixLength], T0, null);
        await Store.Tenancy.CreateApiKeyAsync(key, ApiKeySecrets.Hash(secret), _ct);

        Assert.Equal(key, await Store.Tenancy.FindApiKeyAsync(secret, _ct));
        Assert.Null(await Store.Tenancy.FindApiKeyAsync(secret[..^1] + (secret[^1] == 'a' ? 'b' : 'a'), _ct));
        Assert.Null(await Store.Tenancy.FindApiKeyAsync(secret[..5], _ct));
        Assert.Equal([key.Id], (await Store.Tenancy.ListApiKeysAsync(p.Id, _ct)).Select(k => k.Id));

        Assert.True(await Store.Tenancy.RevokeApiKeyAsync(key.Id, _ct));
        Assert.False(await Store.Tenancy.RevokeApiKeyAsync(key.Id, _ct));
        Assert.Null(await Store.Tenancy.FindApiKeyAsync(secret, _ct));
        Assert.NotNull(Assert.Single(await Store.Tenancy.ListApiKeysAsync(p.Id, _ct)).RevokedAt);
    }

    [Fact]
    public async Task a_collection_gets_an_id_reads_back_and_updates()
    {
        var chain = await NewChainAsync();
        var p = await NewProjectAsync();
        var address = "0x" + Guid.NewGuid().ToString("N").ToUpperInvariant() + "ABCDEF01";
        var added = await Store.Tenancy.AddCollectionAsync(new Collection(0, chain.Name, address, p.Id, CollectionKind.Erc1155, PresetVariant.Erc1155, null, true, T0), _ct);
        Assert.True(added.Id > 0);
        Assert.Equal(address.ToLowerInvariant(), added.Address);
        Assert.Equal(added, await Store.Tenancy.GetCollectionAsync(chain.Name, address, _ct));
        Assert.Equal(added, await Store.Tenancy.GetCollectionByIdAsync(added.Id, _ct));

        var changed = added with { MintingEnabled = false, BaseUriOverride = "https://example.invalid/", Variant = PresetVariant.Unknown };
        await Store.Tenancy.UpdateCollectionAsync(changed, _ct);
        Assert.Equal(changed, await Store.Tenancy.GetCollectionByIdAsync(added.Id, _ct));

        var second = await Store.Tenancy.AddCollectionAsync(changed with { Id = 0, Address = address[..^1] + "2", Kind = CollectionKind.Erc721, Variant = PresetVariant.Erc721V1 }, _ct);
        Assert.True(second.Id > added.Id);
        Assert.Equal([added.Id, second.Id], (await Store.Tenancy.ListCollectionsAsync(p.Id, _ct)).Select(c => c.Id));
        Assert.Contains(await Store.Tenancy.ListCollectionsAsync(null, _ct), c => c.Id == second.Id);
        Assert.Equal(PresetVariant.Erc721V1, (await Store.Tenancy.GetCollectionByIdAsync(second.Id, _ct))!.Variant);
    }

    [Fact]
    public async Task the_same_collection_address_on_one_chain_is_rejected()
    {
        var chain = await NewChainAsync();
        var p = await NewProjectAsync();
        var c = new Collection(0, chain.Name, "0x" + Guid.NewGuid().ToString("N") + "00000000", p.Id, CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, T0);
        await Store.Tenancy.AddCollectionAsync(c, _ct);
        await Assert.ThrowsAnyAsync<DbException>(() => Store.Tenancy.AddCollectionAsync(c with { Address = c.Address.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal) }, _ct));
    }

    private static readonly IEqualityComparer<ChainConfig?> ChainEquals = EqualityComparer<ChainConfig?>.Create(
        (x, y) => x is not null && y is not null && x.Name == y.Name && x.ChainId == y.ChainId && x.RpcUrls.SequenceEqual(y.RpcUrls)
            && x.MinterKeyRef == y.MinterKeyRef && x.Confirmations == y.Confirmations && x.CreatedAt == y.CreatedAt,
        x => x?.Name.GetHashCode(StringComparison.Ordinal) ?? 0);
}

public sealed class SqliteTenancyStoreTests(SqliteBackend backend) : TenancyStoreTests<SqliteBackend>(backend);

public sealed class PostgresTenancyStoreTests(PostgresBackend backend) : TenancyStoreTests<PostgresBackend>(backend);
