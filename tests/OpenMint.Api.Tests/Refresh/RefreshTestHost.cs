using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Chain;
using OpenMint.Core;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Refresh;

/// <summary>The real OpenMint host on 127.0.0.1 over a real SQLite file, plus helpers to seed tenancy and tokens.</summary>
public sealed class RefreshTestHost : IAsyncDisposable
{
    /// <summary>The docs/api.md signature test vector key (32 bytes of 0x11); owns the default project.</summary>
    public const string OwnerKeyHex = "0x1111111111111111111111111111111111111111111111111111111111111111";
    public const string OwnerAddress = "0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2a";

    private WebApplication? _app;

    private readonly TimeProvider? _clock;

    private RefreshTestHost(string databasePath, IReadOnlyDictionary<string, string?> settings, TimeProvider? clock)
    {
        DatabasePath = databasePath;
        Settings = settings;
        _clock = clock;
    }

    public string DatabasePath { get; }
    public IReadOnlyDictionary<string, string?> Settings { get; }
    public OpenMintStorage Store => _app!.Services.GetRequiredService<OpenMintStorage>();
    public Uri BaseAddress { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <param name="clock">The clock the host reads (rate windows, auth timestamps); the system clock when null.</param>
    public static async Task<RefreshTestHost> StartAsync(IReadOnlyDictionary<string, string?> settings, bool runWorkers = true, string? databasePath = null, TimeProvider? clock = null)
    {
        var host = new RefreshTestHost(databasePath ?? Path.Combine(Path.GetTempPath(), $"openmint-refresh-{Guid.NewGuid():N}.db"), settings, clock);
        await host.StartServerAsync(runWorkers);
        return host;
    }

    private async Task StartServerAsync(bool runWorkers)
    {
        _app = await OpenMintServer.BuildAsync(new ServerOptions("sqlite:" + DatabasePath, "http://127.0.0.1:0", Settings, runWorkers, _clock), CancellationToken.None);
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    /// <summary>Stops the host gracefully (the worker releases its leases) and starts a new one on the same database.</summary>
    public async Task RestartAsync(bool runWorkers = true)
    {
        await StopAsync();
        await StartServerAsync(runWorkers);
    }

    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public async Task<Project> AddProjectAsync(string owner = OwnerAddress, int tokensPerHour = Project.DefaultRefreshTokensPerHour, int requestsPerSecond = Project.DefaultRefreshRequestsPerSecond, int maxPerRequest = Project.DefaultRefreshMaxTokensPerRequest)
    {
        if (await Store.Tenancy.GetChainAsync("testchain", CancellationToken.None) is null)
        {
            await Store.Tenancy.UpsertChainAsync(new ChainConfig("testchain", 31337, ["http://127.0.0.1:1/"], null, 0, DateTimeOffset.UtcNow), CancellationToken.None);
        }
        var project = new Project($"p-{Guid.NewGuid():N}", "refresh tests", owner, 2000, requestsPerSecond, tokensPerHour, maxPerRequest, DateTimeOffset.UtcNow);
        await Store.Tenancy.CreateProjectAsync(project, CancellationToken.None);
        return project;
    }

    public async Task<Collection> AddCollectionAsync(Project project, string? baseUriOverride, string? address = null, string chain = "testchain", CollectionKind kind = CollectionKind.Erc721)
    {
        address ??= "0x" + Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant() + "00000000";
        return await Store.Tenancy.AddCollectionAsync(new Collection(0, chain, address, project.Id, kind, kind == CollectionKind.Erc1155 ? PresetVariant.Erc1155 : PresetVariant.Erc721V2,
            baseUriOverride, true, DateTimeOffset.UtcNow), CancellationToken.None);
    }

    /// <summary>Writes token rows directly: the refresh only needs tokens OpenMint knows of.</summary>
    public async Task AddTokensAsync(Collection collection, IEnumerable<string> tokenIds)
    {
        var now = Time.ToWire(DateTimeOffset.UtcNow);
        await Store.Database.InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(
                "INSERT INTO token (collection_id, token_id, owner_address, metadata, metadata_synced_at, created_at, updated_at) VALUES (@cid, @tid, @owner, @meta, NULL, @now, @now)",
                tokenIds.Select(t => new { cid = collection.Id, tid = t, owner = OwnerAddress, meta = """{"name":"before refresh"}""", now }), tx);
        }, CancellationToken.None);
    }

    public async Task<(string? Metadata, string? SyncedAt)> ReadTokenAsync(Collection collection, string tokenId)
    {
        await using var c = await Store.Database.OpenConnectionAsync(CancellationToken.None);
        var row = await c.QuerySingleAsync<(string?, string?)>("SELECT metadata, metadata_synced_at FROM token WHERE collection_id = @cid AND token_id = @tid", new { cid = collection.Id, tid = tokenId });
        return row;
    }

    /// <summary>A request signed by <paramref name="keyHex"/> the way the core-sdk signs (timestamp now unless given).</summary>
    public HttpRequestMessage Signed(HttpMethod method, string path, string keyHex = OwnerKeyHex, long? timestamp = null, object? body = null)
    {
        var key = EthKey.FromHex(keyHex);
        var ts = (timestamp ?? (method == HttpMethod.Post ? FreshTimestamp(keyHex) : DateTimeOffset.UtcNow.ToUnixTimeSeconds())).ToString(CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(method, new Uri(BaseAddress, path));
        request.Headers.Add("x-imx-eth-address", EthAddress.ToChecksum(key.Address));
        request.Headers.Add("x-imx-eth-timestamp", ts);
        request.Headers.Add("x-imx-eth-signature", PersonalSign.Sign(key, ts));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        return request;
    }

    private readonly HashSet<(string Key, long Timestamp)> _postTimestamps = [];

    /// <summary>
    /// A timestamp this key has not signed a POST with yet: a signature creates at most one refresh, and signatures
    /// are deterministic, so two POSTs in one second step back a second (well inside the 300 s window).
    /// </summary>
    private long FreshTimestamp(string keyHex)
    {
        lock (_postTimestamps)
        {
            var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            while (!_postTimestamps.Add((keyHex, ts)))
            {
                ts--;
            }
            return ts;
        }
    }

    public async Task<(HttpResponseMessage Response, JsonElement Body)> SendAsync(HttpRequestMessage request)
    {
        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response, body);
    }

    public async Task<string> CreateRefreshAsync(Collection collection, IEnumerable<string> tokenIds, string keyHex = OwnerKeyHex)
    {
        var (response, body) = await SendAsync(Signed(HttpMethod.Post, "/v1/metadata-refreshes", keyHex, body: new { collection_address = collection.Address, token_ids = tokenIds.ToArray() }));
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"POST answered {(int)response.StatusCode}: {body}");
        return body.GetProperty("refresh_id").GetString()!;
    }

    public async Task<JsonElement> GetStatusAsync(string refreshId)
    {
        var (response, body) = await SendAsync(Signed(HttpMethod.Get, $"/v1/metadata-refreshes/{refreshId}"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return body;
    }

    /// <summary>Polls until completed; every observed summary must add up to the token count.</summary>
    public Task<JsonElement> WaitCompletedAsync(string refreshId, int tokenCount, TimeSpan? within = null) =>
        Eventually.ValueAsync(() => GetStatusAsync(refreshId), status =>
        {
            var s = status.GetProperty("summary");
            Assert.Equal(tokenCount, s.GetProperty("succeeded").GetInt32() + s.GetProperty("failed").GetInt32() + s.GetProperty("pending").GetInt32());
            return status.GetProperty("status").GetString() == "completed";
        }, $"refresh {refreshId} to complete", within ?? TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100));

    public async Task<List<JsonElement>> AllErrorsAsync(string refreshId, int pageSize = 100)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        while (true)
        {
            var path = $"/v1/metadata-refreshes/{refreshId}/errors?page_size={pageSize}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var (response, body) = await SendAsync(Signed(HttpMethod.Get, path));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            items.AddRange(body.GetProperty("result").EnumerateArray());
            if (body.GetProperty("remaining").GetInt32() == 0)
            {
                return items;
            }
            cursor = body.GetProperty("cursor").GetString();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
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
}
