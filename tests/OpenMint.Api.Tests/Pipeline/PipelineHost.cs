using System.Globalization;
using System.Net.Http.Json;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api.Auth;
using OpenMint.Core;
using OpenMint.Core.Tenancy;
using OpenMint.DevChain;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>
/// Tenancy for the dev chain's presets in a store: chain "anvil" with the minter key in a file,
/// one project (limit raised), an API key, one collection per deployed preset.
/// </summary>
internal sealed class PipelineTenancy
{
    public const string ChainName = "anvil";

    public required string Key { get; init; }
    public required Project Project { get; init; }
    public required IReadOnlyDictionary<string, Collection> Collections { get; init; }

    public static async Task<PipelineTenancy> CreateAsync(OpenMintStorage store, DevChainDeployment deployment, int confirmations = 0, int mintLimit = 1_000_000,
        IReadOnlyList<string>? rpcUrls = null)
    {
        var ct = CancellationToken.None;
        var keyFile = Path.Combine(Path.GetDirectoryName(TempSqlite.NewPath())!, $"minter-{Guid.NewGuid():N}.key");
        await File.WriteAllTextAsync(keyFile, deployment.MinterPrivateKey + "\n", ct);
        await store.Tenancy.UpsertChainAsync(new ChainConfig(ChainName, deployment.ChainId, rpcUrls ?? [deployment.RpcUrl], "file:" + keyFile, confirmations, DateTimeOffset.UtcNow), ct);
        var project = new Project(UuidV7.New().ToString(), "pipeline", deployment.OwnerAddress, mintLimit, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await store.Tenancy.CreateProjectAsync(project, ct);
        var key = (await ApiKeyIssuer.IssueAsync(store.Tenancy, project.Id, TimeProvider.System, ct)).Secret;
        var collections = new Dictionary<string, Collection>();
        foreach (var c in deployment.Collections)
        {
            var variant = c.Contract switch
            {
                "ImmutableERC721" => PresetVariant.Erc721V1,
                "ImmutableERC721MintByID" => PresetVariant.Erc721MintById,
                "ImmutableERC1155" => PresetVariant.Erc1155,
                _ => PresetVariant.Erc721V2,
            };
            collections[c.Name] = await store.Tenancy.AddCollectionAsync(new Collection(0, ChainName, c.Address, project.Id,
                c.Kind == "erc1155" ? CollectionKind.Erc1155 : CollectionKind.Erc721, variant, null, c.MintingEnabled, DateTimeOffset.UtcNow), ct);
        }
        return new PipelineTenancy { Key = key, Project = project, Collections = collections };
    }
}

/// <summary>A real OpenMint server with the pipeline running, over a fresh SQLite file (or the given database).</summary>
internal sealed class PipelineServer : IAsyncDisposable
{
    public required WebApplication App { get; init; }
    public required OpenMintStorage Store { get; init; }
    public required HttpClient Http { get; init; }
    public required PipelineTenancy Tenancy { get; init; }

    public static readonly Dictionary<string, string?> FastSettings = new(ServeProcess.FastSettings)
    {
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <param name="database">A <c>--database</c> value (e.g. a fresh PostgreSQL database); default a fresh SQLite file.</param>
    /// <param name="shared">The tenancy already in <paramref name="database"/>: this host joins others on one store.</param>
    public static async Task<PipelineServer> StartAsync(DevChainDeployment deployment, IReadOnlyDictionary<string, string?>? settings = null,
        IReadOnlyList<string>? rpcUrls = null, int confirmations = 0, string? database = null, PipelineTenancy? shared = null)
    {
        var ct = CancellationToken.None;
        var db = database ?? TempSqlite.NewDatabaseValue("pipeline-e2e");
        var merged = new Dictionary<string, string?>(FastSettings);
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            merged[k] = v;
        }
        // Tenancy first: the worker starts with the host.
        var tenancy = shared;
        if (tenancy is null)
        {
            var setupStore = await OpenMintStorage.OpenAsync(db, ct);
            tenancy = await PipelineTenancy.CreateAsync(setupStore, deployment, confirmations, rpcUrls: rpcUrls);
            await setupStore.DisposeAsync();
        }
        var app = await OpenMintServer.BuildAsync(new ServerOptions(db, "http://127.0.0.1:0", merged), ct);
        await app.StartAsync(ct);
        var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("x-immutable-api-key", tenancy.Key);
        return new PipelineServer { App = app, Store = app.Services.GetRequiredService<OpenMintStorage>(), Http = http, Tenancy = tenancy };
    }

    public string Address(string collection) => Tenancy.Collections[collection].Address;

    public async Task PostAsync(string collection, JsonArray assets)
    {
        var path = $"/v1/chains/{PipelineTenancy.ChainName}/collections/{Address(collection)}/nfts/mint-requests";
        using var response = await Http.PostAsync(path, new StringContent(new JsonObject { ["assets"] = assets }.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True((int)response.StatusCode == 202, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async Task<JsonObject> GetAsync(string collection, string referenceId)
    {
        var path = $"/v1/chains/{PipelineTenancy.ChainName}/collections/{Address(collection)}/nfts/mint-requests/{Uri.EscapeDataString(referenceId)}";
        var body = JsonNode.Parse(await Http.GetStringAsync(path))!.AsObject();
        return body["result"]![0]!.AsObject();
    }

    /// <summary>Waits until the request leaves pending; returns it.</summary>
    public Task<JsonObject> WaitAsync(string collection, string referenceId, TimeSpan? timeout = null) =>
        Eventually.ValueAsync(() => GetAsync(collection, referenceId), r => (string?)r["status"] != "pending",
            $"{referenceId} to leave pending", timeout ?? TimeSpan.FromSeconds(90));

    public async Task<long> ScalarAsync(string sql, object? args = null)
    {
        await using var c = await Store.Database.OpenConnectionAsync(CancellationToken.None);
        return await c.ExecuteScalarAsync<long>(sql, args);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public static JsonObject Asset(string referenceId, string owner, string? tokenId = null, string? amount = null, JsonNode? metadata = null)
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
}

/// <summary>Just enough JSON-RPC to check results on chain and to inject faults.</summary>
internal sealed class TestRpc(string url) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task<JsonElement> CallAsync(string method, params object?[] args)
    {
        using var response = await _http.PostAsJsonAsync(url, new { jsonrpc = "2.0", id = 1, method, @params = args });
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (doc.RootElement.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"{method}: {error.GetRawText()}");
        }
        return doc.RootElement.GetProperty("result").Clone();
    }

    public async Task<byte[]> EthCallAsync(string to, string selectorHex, params BigInteger[] words)
    {
        var data = new StringBuilder(selectorHex);
        foreach (var w in words)
        {
            data.Append(w.ToString("x64", CultureInfo.InvariantCulture)[^64..]);
        }
        var result = await CallAsync("eth_call", new { to, data = data.ToString() }, "latest");
        return Convert.FromHexString(result.GetString()![2..]);
    }

    public static BigInteger Address(string a) => BigInteger.Parse("0" + a[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    public async Task<string> OwnerOfAsync(string contract, BigInteger tokenId) =>
        "0x" + Convert.ToHexStringLower((await EthCallAsync(contract, "0x6352211e", tokenId)).AsSpan(12, 20));

    public async Task<BigInteger> BalanceOfAsync(string contract, string owner) =>
        new((await EthCallAsync(contract, "0x70a08231", Address(owner))).AsSpan(0, 32), isUnsigned: true, isBigEndian: true);

    public async Task<BigInteger> BalanceOf1155Async(string contract, string owner, BigInteger id) =>
        new((await EthCallAsync(contract, "0x00fdd58e", Address(owner), id)).AsSpan(0, 32), isUnsigned: true, isBigEndian: true);

    public void Dispose() => _http.Dispose();
}
