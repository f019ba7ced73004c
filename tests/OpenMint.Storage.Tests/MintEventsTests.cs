using System.Globalization;
using System.Text.Json.Nodes;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Tests;

public class MintEventsTests
{
    [Fact]
    public void a_creation_payload_rebuilt_from_the_row_after_the_mint_equals_the_payload_at_creation()
    {
        var now = DateTimeOffset.Parse("2024-02-12T05:35:35.743242Z", CultureInfo.InvariantCulture);
        var chain = new ChainConfig("anvil", 31337, ["http://127.0.0.1:8545"], null, 0, now);
        var collection = new Collection(7, "anvil", "0x5fbdb2315678afecb367f032d93f642f64180aa3", "p1", CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, now);
        var accepted = new MintRequestRecord(42, 7, "p1", "ref \"1\"/x", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", null, true,
            null, "{\"name\":\"n\"}", MintStatus.Pending, null, null, null, null, now, now);
        var minted = accepted with
        {
            TokenId = "77", Status = MintStatus.Succeeded, TransactionHash = "0x" + new string('a', 64), ActivityId = Guid.NewGuid().ToString(),
            ErrorMessage = null, BatchId = 3, UpdatedAt = now.AddSeconds(9),
        };
        var failedAfterNotice = accepted with { Status = MintStatus.Failed, ErrorMessage = "Exceeded a maximum of 5 submissions", UpdatedAt = now.AddMinutes(3) };
        var id = Guid.Parse("01932f6e-8c1a-7abc-8def-0123456789ab");

        var atCreation = MintEvents.Payload(id, accepted, collection, chain);

        Assert.Equal(atCreation, MintEvents.Payload(id, MintEvents.AsCreated(minted), collection, chain));
        Assert.Equal(atCreation, MintEvents.Payload(id, MintEvents.AsCreated(failedAfterNotice), collection, chain));
        Assert.Equal(atCreation, MintEvents.Payload(id, MintEvents.AsCreated(accepted), collection, chain));
    }
}

/// <summary>
/// The event log on each backend: creation events are stored without their payload and read back with the
/// payload docs/api.md specifies for <c>imtbl_zkevm_mint_request_updated</c>, unchanged by later status changes.
/// </summary>
public abstract class MintEventStoreTests<TBackend>(TBackend backend) : StoreSuite<TBackend>(backend) where TBackend : class, IStoreBackend
{
    private ChainConfig _chain = null!;
    private Project _project = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _chain = new ChainConfig("c-" + Guid.NewGuid().ToString("N")[..8], 31337, ["http://127.0.0.1:1"], null, 0, DateTimeOffset.UtcNow);
        await Store.Tenancy.UpsertChainAsync(_chain, CancellationToken.None);
        _project = new Project(UuidV7.New().ToString(), "p", "0x" + new string('a', 40), 1_000_000, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await Store.Tenancy.CreateProjectAsync(_project, CancellationToken.None);
    }

    private async Task<Collection> NewCollectionAsync(CollectionKind kind) =>
        await Store.Tenancy.AddCollectionAsync(new Collection(0, _chain.Name, "0x" + Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant() + "00000000",
            _project.Id, kind, kind == CollectionKind.Erc721 ? PresetVariant.Erc721V2 : PresetVariant.Erc1155, null, true, DateTimeOffset.UtcNow), CancellationToken.None);

    private MintIntake Intake(Collection collection, params MintAsset[] assets) =>
        new(collection, _chain, assets, 1_000_000, assets.Length);

    private async Task<List<OpenMint.Core.Events.EventRecord>> EventsAsync() =>
        (await Store.Events.ReadMintEventsAsync(0, 100_000, CancellationToken.None)).Where(e => e.ProjectId == _project.Id).ToList();

    private async Task ExecuteAsync(string sql, object args)
    {
        await using var c = await Store.Database.OpenConnectionAsync(CancellationToken.None);
        await c.ExecuteAsync(sql, args);
    }

    [Fact]
    public async Task creation_events_read_back_with_the_payload_of_api_md_and_keep_it_after_the_mint()
    {
        var erc721 = await NewCollectionAsync(CollectionKind.Erc721);
        var erc1155 = await NewCollectionAsync(CollectionKind.Erc1155);
        const string Owner = "0x00000000000000000000000000000000000000bb";
        Assert.IsType<MintIntakeOutcome.Accepted>(await Store.Minting.AcceptMintRequestsAsync(Intake(erc721,
            new MintAsset("q-1", Owner, null, null, "{\"name\":\"x\"}"), new MintAsset("id-2", Owner, "2", null, null)), CancellationToken.None));
        Assert.IsType<MintIntakeOutcome.Accepted>(await Store.Minting.AcceptMintRequestsAsync(Intake(erc1155,
            new MintAsset("e-1", Owner, "5", "12", null)), CancellationToken.None));

        var events = await EventsAsync();
        Assert.Equal(3, events.Count);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Seq < p.Second.Seq && p.First.EventId.CompareTo(p.Second.EventId) < 0), "seq and event ids increase together");
        var byQuantity = await Store.Minting.GetMintRequestAsync(erc721.Id, "q-1", CancellationToken.None);
        Assert.NotNull(byQuantity);
        var event1 = events.Single(e => e.MintRequestId == byQuantity.Id);
        Assert.Equal(MintStatus.Pending, event1.Status);
        Assert.Equal(MintEvents.Payload(event1.EventId, byQuantity, erc721, _chain), event1.Payload);

        var json = JsonNode.Parse(event1.Payload)!.AsObject();
        Assert.Equal(["event_name", "event_id", "chain", "data"], json.Select(p => p.Key).ToArray());
        Assert.Equal("imtbl_zkevm_mint_request_updated", (string?)json["event_name"]);
        Assert.Equal(event1.EventId.ToString(), (string?)json["event_id"]);
        Assert.Equal('7', ((string)json["event_id"]!)[14]);
        Assert.Equal(_chain.Name, (string?)json["chain"]);
        var data = json["data"]!.AsObject();
        Assert.Equal(["chain", "contract_address", "owner_address", "reference_id", "metadata_id", "token_id", "status", "transaction_hash",
            "activity_id", "error", "created_at", "updated_at", "amount"], data.Select(p => p.Key).ToArray());
        Assert.Equal("eip155:31337", (string?)data["chain"]!["id"]);
        Assert.Equal(_chain.Name, (string?)data["chain"]!["name"]);
        Assert.Equal(erc721.Address, (string?)data["contract_address"]);
        Assert.Equal(Owner, (string?)data["owner_address"]);
        Assert.Equal("q-1", (string?)data["reference_id"]);
        Assert.True(Guid.TryParse((string?)data["metadata_id"], out _));
        Assert.Null(data["token_id"]);
        Assert.Equal("pending", (string?)data["status"]);
        Assert.Null(data["transaction_hash"]);
        Assert.Null(data["activity_id"]);
        Assert.Null(data["error"]);
        Assert.Equal(Time.ToWire(byQuantity.CreatedAt), (string?)data["created_at"]);
        Assert.Equal((string?)data["created_at"], (string?)data["updated_at"]);
        Assert.Null(data["amount"]);

        var byId = JsonNode.Parse(events.Single(e => e.MintRequestId != byQuantity.Id && JsonNode.Parse(e.Payload)!["data"]!["reference_id"]!.ToString() == "id-2").Payload)!["data"]!;
        Assert.Equal("2", (string?)byId["token_id"]);
        Assert.Null(byId["metadata_id"]);
        var semi = JsonNode.Parse(events.Single(e => JsonNode.Parse(e.Payload)!["data"]!["reference_id"]!.ToString() == "e-1").Payload)!["data"]!;
        Assert.Equal("5", (string?)semi["token_id"]);
        Assert.Equal(12, (int)semi["amount"]!);

        // The pipeline mints the by-quantity request: its row changes, its creation event does not.
        await ExecuteAsync(
            "UPDATE mint_request SET status = 'succeeded', token_id = '77', transaction_hash = @hash, activity_id = @activity, updated_at = @now WHERE id = @id",
            new { id = byQuantity.Id, hash = "0x" + new string('c', 64), activity = Guid.NewGuid().ToString(), now = Time.ToWire(DateTimeOffset.UtcNow.AddSeconds(5)) });
        var after = await EventsAsync();
        Assert.Equal(events.Select(e => e.Payload), after.Select(e => e.Payload));
    }

    [Fact]
    public async Task a_failed_request_replaced_by_a_new_one_keeps_its_creation_event()
    {
        var collection = await NewCollectionAsync(CollectionKind.Erc721);
        const string Owner = "0x00000000000000000000000000000000000000cc";
        Assert.IsType<MintIntakeOutcome.Accepted>(await Store.Minting.AcceptMintRequestsAsync(Intake(collection, new MintAsset("again", Owner, "9", null, null)), CancellationToken.None));
        var first = await Store.Minting.GetMintRequestAsync(collection.Id, "again", CancellationToken.None);
        var before = Assert.Single(await EventsAsync());

        Assert.IsType<MintIntakeOutcome.Conflict>(await Store.Minting.AcceptMintRequestsAsync(Intake(collection, new MintAsset("again", Owner, "10", null, null)), CancellationToken.None));
        await ExecuteAsync("UPDATE mint_request SET status = 'failed', error_message = 'reverted' WHERE id = @id", new { id = first!.Id });
        Assert.IsType<MintIntakeOutcome.Accepted>(await Store.Minting.AcceptMintRequestsAsync(Intake(collection, new MintAsset("again", Owner, "10", null, null)), CancellationToken.None));

        var second = await Store.Minting.GetMintRequestAsync(collection.Id, "again", CancellationToken.None);
        Assert.NotEqual(first.Id, second!.Id);
        Assert.Equal("10", second.TokenId);
        var events = await EventsAsync();
        Assert.Equal(2, events.Count);
        Assert.Equal(before.Payload, events[0].Payload);
        Assert.Equal(MintEvents.Payload(events[1].EventId, second, collection, _chain), events[1].Payload);
    }

    [Fact]
    public async Task conflicts_are_decided_before_anything_is_written()
    {
        var collection = await NewCollectionAsync(CollectionKind.Erc721);
        const string Owner = "0x00000000000000000000000000000000000000dd";
        Assert.IsType<MintIntakeOutcome.Accepted>(await Store.Minting.AcceptMintRequestsAsync(Intake(collection, new MintAsset("a", Owner, "1", null, null)), CancellationToken.None));
        // The reference id conflict wins over the token conflict of the same request.
        var both = Assert.IsType<MintIntakeOutcome.Conflict>(await Store.Minting.AcceptMintRequestsAsync(Intake(collection,
            new MintAsset("b", Owner, "1", null, null), new MintAsset("a", Owner, "3", null, null)), CancellationToken.None));
        Assert.Equal("reference_id", both.Field);
        var token = Assert.IsType<MintIntakeOutcome.Conflict>(await Store.Minting.AcceptMintRequestsAsync(Intake(collection,
            new MintAsset("c", Owner, "4", null, null), new MintAsset("d", Owner, "1", null, null)), CancellationToken.None));
        Assert.Equal("there are already mint requests for token_ids: 1", token.Message);
        Assert.Single((await Store.Minting.ListMintRequestsAsync(collection.Id, null, null, 200, CancellationToken.None)).Items);
        Assert.Single(await EventsAsync());
    }
}

public sealed class SqliteMintEventStoreTests(SqliteBackend backend) : MintEventStoreTests<SqliteBackend>(backend);

public sealed class PostgresMintEventStoreTests(PostgresBackend backend) : MintEventStoreTests<PostgresBackend>(backend);
