using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using OpenMint.Core.Webhooks;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Webhooks;

/// <summary>A fresh store with a chain, a project and a collection, and webhook workers over it (short intervals, loopback allowed).</summary>
public sealed class WebhookTestBed : IAsyncDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly List<WebhookWorker> _workers = [];

    private WebhookTestBed(OpenMintStorage store, string databaseValue, Project project, Collection collection, ChainConfig chain)
    {
        Store = store;
        DatabaseValue = databaseValue;
        Project = project;
        Collection = collection;
        Chain = chain;
    }

    public OpenMintStorage Store { get; }
    public string DatabaseValue { get; }
    public Project Project { get; }
    public Collection Collection { get; }
    public ChainConfig Chain { get; }

    public static WebhookOptions FastOptions() => new()
    {
        AllowLoopback = true,
        PollInterval = TimeSpan.FromMilliseconds(20),
        EndpointRefreshInterval = TimeSpan.FromMilliseconds(200),
        FirstRetryDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryDelay = TimeSpan.FromMilliseconds(400),
        AttemptTimeout = TimeSpan.FromSeconds(2),
    };

    public static async Task<WebhookTestBed> CreateAsync(string? databaseValue = null)
    {
        databaseValue ??= TempSqlite.NewDatabaseValue("webhooks");
        var store = await OpenMintStorage.OpenAsync(databaseValue, Ct);
        var chain = new ChainConfig("c-" + Guid.NewGuid().ToString("N")[..8], 31337, ["http://127.0.0.1:1"], null, 0, DateTimeOffset.UtcNow);
        await store.Tenancy.UpsertChainAsync(chain, Ct);
        var project = new Project(UuidV7.New().ToString(), "p", "0x" + new string('a', 40), 10_000_000, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await store.Tenancy.CreateProjectAsync(project, Ct);
        var collection = await store.Tenancy.AddCollectionAsync(new Collection(0, chain.Name, "0x" + Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant() + "00000000",
            project.Id, CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, DateTimeOffset.UtcNow), Ct);
        return new WebhookTestBed(store, databaseValue, project, collection, chain);
    }

    public async Task<WebhookEndpoint> AddEndpointAsync(string url, params string[] events)
    {
        var result = await WebhookRegistration.AddAsync(Store.Webhooks, Store.Tenancy, Project.Id, url, events, TimeProvider.System, Ct);
        return result.Endpoint ?? throw new InvalidOperationException(result.Error);
    }

    /// <summary>Accepts <paramref name="count"/> by-quantity mint requests (one pending event each); returns their reference ids.</summary>
    public async Task<List<string>> MintAsync(int count)
    {
        var refs = Enumerable.Range(0, count).Select(_ => Guid.NewGuid().ToString("N")).ToList();
        foreach (var chunk in refs.Chunk(500))
        {
            var assets = chunk.Select(r => new MintAsset(r, "0x00000000000000000000000000000000000000bb", null, null, null)).ToList();
            Assert.IsType<MintIntakeOutcome.Accepted>(await Store.Minting.AcceptMintRequestsAsync(new MintIntake(Collection, Chain, assets, 10_000_000, assets.Count), Ct));
        }
        return refs;
    }

    /// <summary>Appends a later event of the same request to the log (as a status change would): event id, payload and all.</summary>
    public async Task<string> AppendStatusEventAsync(string referenceId, string status)
    {
        var request = (await Store.Minting.GetMintRequestAsync(Collection.Id, referenceId, Ct))!;
        var eventId = UuidV7.New();
        var payload = MintEvents.Payload(eventId, request with { Status = MintStatusNames.Parse(status), UpdatedAt = DateTimeOffset.UtcNow }, Collection, Chain);
        await using var c = await Store.Database.OpenConnectionAsync(Ct);
        await c.ExecuteAsync("INSERT INTO mint_event (event_id, project_id, mint_request_id, status, payload, created_at) VALUES (@e, @p, @r, @s, @payload, @t)",
            new { e = eventId.ToString(), p = Project.Id, r = request.Id, s = status, payload, t = Time.ToWire(DateTimeOffset.UtcNow) });
        return eventId.ToString();
    }

    public async Task<WebhookWorker> StartWorkerAsync(WebhookOptions? options = null, OpenMintStorage? store = null)
    {
        store ??= Store;
        var worker = new WebhookWorker(store.Events, store.Webhooks, options ?? FastOptions(), TimeProvider.System, NullLogger<WebhookWorker>.Instance);
        await worker.StartAsync(Ct);
        _workers.Add(worker);
        return worker;
    }

    public async Task StopWorkerAsync(WebhookWorker worker)
    {
        await worker.StopAsync(Ct);
        worker.Dispose();
        _workers.Remove(worker);
    }

    public Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(string endpointId, WebhookDeliveryStatus? status = null) =>
        Store.Webhooks.ListDeliveriesAsync(endpointId, status, 100_000, Ct);

    public async ValueTask DisposeAsync()
    {
        foreach (var w in _workers.ToList())
        {
            await StopWorkerAsync(w);
        }
        await Store.DisposeAsync();
    }
}
