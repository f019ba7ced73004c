using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api;
using OpenMint.Api.Auth;
using OpenMint.Core;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;

namespace OpenMint.Api.Tests.Minting;

/// <summary>A real OpenMint server on 127.0.0.1 over a fresh SQLite file, with a chain, projects, keys and collections.</summary>
public sealed class MintingServerFixture : IAsyncLifetime
{
    public const string ChainName = "testchain";
    public const long ChainId = 31337;

    public WebApplication App { get; private set; } = null!;
    public OpenMintStorage Store { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";
    public string DatabasePath { get; } = Path.Combine(Path.GetTempPath(), $"openmint-api-{Guid.NewGuid():N}.db");

    public Project Project { get; private set; } = null!;
    public string Key { get; private set; } = "";
    public string OtherProjectKey { get; private set; } = "";
    public string Erc721 { get; private set; } = "";
    public string Erc1155 { get; private set; } = "";
    public string Disabled { get; private set; } = "";
    public string OtherProjectCollection { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var ct = CancellationToken.None;
        App = await OpenMintServer.BuildAsync(new ServerOptions("sqlite:" + DatabasePath, "http://127.0.0.1:0", RunWorkers: false), ct);
        await App.StartAsync(ct);
        BaseUrl = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        Store = App.Services.GetRequiredService<OpenMintStorage>();
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl) };

        await Store.Tenancy.UpsertChainAsync(new ChainConfig(ChainName, ChainId, ["http://127.0.0.1:1"], "env:UNUSED_KEY", 0, DateTimeOffset.UtcNow), ct);
        Project = await NewProjectAsync(100_000);
        Key = (await ApiKeyIssuer.IssueAsync(Store.Tenancy, Project.Id, TimeProvider.System, ct)).Secret;
        var other = await NewProjectAsync(2000);
        OtherProjectKey = (await ApiKeyIssuer.IssueAsync(Store.Tenancy, other.Id, TimeProvider.System, ct)).Secret;

        Erc721 = await NewCollectionAsync(Project.Id, CollectionKind.Erc721);
        Erc1155 = await NewCollectionAsync(Project.Id, CollectionKind.Erc1155);
        Disabled = await NewCollectionAsync(Project.Id, CollectionKind.Erc721, mintingEnabled: false);
        OtherProjectCollection = await NewCollectionAsync(other.Id, CollectionKind.Erc721);
    }

    public async Task<Project> NewProjectAsync(int mintLimit)
    {
        var p = new Project(UuidV7.New().ToString(), "p-" + Guid.NewGuid().ToString("N")[..6], "0x" + new string('a', 40), mintLimit, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await Store.Tenancy.CreateProjectAsync(p, CancellationToken.None);
        return p;
    }

    /// <summary>Adds a collection at a fresh random address; returns the address in mixed case to prove case-insensitivity.</summary>
    public async Task<string> NewCollectionAsync(string projectId, CollectionKind kind, bool mintingEnabled = true)
    {
        var address = "0x" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        await Store.Tenancy.AddCollectionAsync(new Collection(0, ChainName, address, projectId, kind,
            kind == CollectionKind.Erc1155 ? PresetVariant.Erc1155 : PresetVariant.Erc721V2, null, mintingEnabled, DateTimeOffset.UtcNow), CancellationToken.None);
        return address;
    }

    public async Task<string> NewKeyAsync(string projectId) => (await ApiKeyIssuer.IssueAsync(Store.Tenancy, projectId, TimeProvider.System, CancellationToken.None)).Secret;

    public static string MintPath(string address, string chain = ChainName) => $"/v1/chains/{chain}/collections/{address}/nfts/mint-requests";

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("x-immutable-api-key", key);
        }
        return await Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> PostJsonAsync(string address, string json, string? key = null) =>
        SendAsync(HttpMethod.Post, MintPath(address), key ?? Key, new StringContent(json, Encoding.UTF8, "application/json"));

    public Task<HttpResponseMessage> PostAssetsAsync(string address, JsonArray assets, string? key = null) =>
        PostJsonAsync(address, new JsonObject { ["assets"] = assets }.ToJsonString(), key);

    public Task<HttpResponseMessage> PostBytesAsync(string address, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return SendAsync(HttpMethod.Post, MintPath(address), Key, content);
    }

    public static JsonObject Asset(string referenceId, string? tokenId = null, string? amount = null, JsonNode? metadata = null, string owner = "0xAbCdEf0123456789aBcDeF0123456789abcdef01")
    {
        var a = new JsonObject { ["reference_id"] = referenceId, ["owner_address"] = owner };
        if (tokenId is not null)
        {
            a["token_id"] = tokenId;
        }
        if (amount is not null)
        {
            a["amount"] = amount;
        }
        if (metadata is not null)
        {
            a["metadata"] = metadata;
        }
        return a;
    }

    public static async Task<JsonObject> JsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await Store.DisposeAsync();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try
            {
                File.Delete(DatabasePath + suffix);
            }
            catch (IOException)
            {
            }
        }
    }

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}
