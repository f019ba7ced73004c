using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api;
using OpenMint.Core.Tenancy;
using OpenMint.DevChain;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Dev;

/// <summary>What <c>openmint dev</c> does between starting the chain and serving: provision the store and write dev.json.</summary>
public sealed class DevBootstrapTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private static readonly string[] DevJsonFields =
        ["base_url", "rpc_url", "chain_name", "chain_id", "database", "project_id", "api_key", "owner_address", "owner_private_key", "minter_address", "collections", "other_project_api_key"];

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task dev_bootstrap_writes_a_dev_json_that_works_against_the_running_service_and_chain()
    {
        var ct = CancellationToken.None;
        var database = TempSqlite.NewDatabaseValue("dev");
        var stateDir = Path.Combine(Path.GetTempPath(), "openmint-dev-" + Guid.NewGuid().ToString("N"));
        var store = await OpenMintStorage.OpenAsync(database, ct);
        var provisioned = await DevBootstrap.ProvisionAsync(store.Tenancy, database, anvil.Deployment, stateDir, TimeProvider.System, ct);

        var app = await OpenMintServer.BuildAsync(new ServerOptions(database, "http://127.0.0.1:0", RunWorkers: false), ct);
        await using (app)
        {
            await app.StartAsync(ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var path = DevBootstrap.WriteDevJson(provisioned with { BaseUrl = address }, stateDir);

            using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(path));
            Assert.Equal(DevJsonFields.Order(), doc.RootElement.EnumerateObject().Select(p => p.Name).Order());
            Assert.Equal(
                new[] { "erc721", "erc721_v1", "erc721_mint_by_id", "erc1155", "erc721_no_minter_role", "erc721_minting_disabled" }.Order(),
                doc.RootElement.GetProperty("collections").EnumerateObject().Select(p => p.Name).Order());
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            var info = DevBootstrap.ReadDevJson(path);

            using var http = new HttpClient();
            Assert.Equal("ok", JsonDocument.Parse(await http.GetStringAsync(info.BaseUrl.TrimEnd('/') + "/health")).RootElement.GetProperty("status").GetString());
            Assert.Equal(info.ChainId, long.Parse((await RawRpc.CallAsync(new Uri(info.RpcUrl), "eth_chainId")).GetString()![2..], System.Globalization.NumberStyles.HexNumber));
            Assert.Equal(database, info.Database);

            Assert.Equal(info.ProjectId, (await store.Tenancy.FindApiKeyAsync(info.ApiKey, ct))!.ProjectId);
            var other = await store.Tenancy.FindApiKeyAsync(info.OtherProjectApiKey, ct);
            Assert.NotNull(other);
            Assert.NotEqual(info.ProjectId, other.ProjectId);
            Assert.Equal(info.OwnerAddress, (await store.Tenancy.GetProjectAsync(info.ProjectId, ct))!.OwnerAddress);

            var chain = (await store.Tenancy.GetChainAsync(info.ChainName, ct))!;
            Assert.Equal([info.RpcUrl], chain.RpcUrls);
            Assert.StartsWith("file:", chain.MinterKeyRef, StringComparison.Ordinal);
            var keyFile = chain.MinterKeyRef![5..];
            Assert.Equal(DevAccounts.MinterPrivateKey, (await File.ReadAllTextAsync(keyFile)).Trim());
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));

            var collections = await store.Tenancy.ListCollectionsAsync(info.ProjectId, ct);
            Assert.Equal(6, collections.Count);
            foreach (var (name, collectionAddress) in info.Collections)
            {
                var c = Assert.Single(collections, x => x.Address == collectionAddress);
                Assert.Equal(name != "erc721_minting_disabled", c.MintingEnabled);
                Assert.Null(c.BaseUriOverride);
                Assert.Equal(name switch
                {
                    "erc721_v1" => PresetVariant.Erc721V1,
                    "erc721_mint_by_id" => PresetVariant.Erc721MintById,
                    "erc1155" => PresetVariant.Erc1155,
                    _ => PresetVariant.Erc721V2,
                }, c.Variant);
                Assert.Equal(name == "erc1155" ? CollectionKind.Erc1155 : CollectionKind.Erc721, c.Kind);
            }
            await app.StopAsync(ct);
        }
        await store.DisposeAsync();

        // Keys live in files, never in the store.
        var dbBytes = Convert.ToHexStringLower(await File.ReadAllBytesAsync(database["sqlite:".Length..]));
        Assert.DoesNotContain(DevAccounts.MinterPrivateKey[2..], dbBytes, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexStringLower(System.Text.Encoding.ASCII.GetBytes(provisioned.ApiKey)), dbBytes, StringComparison.Ordinal);
        Directory.Delete(stateDir, recursive: true);
    }
}
