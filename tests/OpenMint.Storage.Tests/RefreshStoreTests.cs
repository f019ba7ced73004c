using Dapper;
using OpenMint.Core;
using OpenMint.Core.Refresh;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Tests;

/// <summary>The refresh part of the store, written once and run on SQLite and PostgreSQL.</summary>
public abstract class RefreshStoreTests<TBackend>(TBackend backend) : StoreSuite<TBackend>(backend) where TBackend : class, IStoreBackend
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private readonly CancellationToken _ct = CancellationToken.None;
    private async Task<RefreshCollection> NewCollectionAsync(string owner)
    {
        var unique = Guid.NewGuid().ToString("N");
        await Store.Tenancy.UpsertChainAsync(new ChainConfig("c" + unique[..8], 1, ["http://127.0.0.1:1/"], null, 0, T0), _ct);
        var project = new Project("p" + unique[..12], "p", owner, 100, 5, 30_000, 1000, T0);
        await Store.Tenancy.CreateProjectAsync(project, _ct);
        var address = "0x" + unique + "00000000";
        var c = await Store.Tenancy.AddCollectionAsync(new Collection(0, "c" + unique[..8], address, project.Id, CollectionKind.Erc721, PresetVariant.Erc721V2, "http://m.example/", true, T0), _ct);
        await Store.Database.InTransactionAsync(async (conn, tx) =>
        {
            await conn.ExecuteAsync("INSERT INTO token (collection_id, token_id, owner_address, metadata, metadata_synced_at, created_at, updated_at) VALUES (@id, @t, NULL, NULL, NULL, @at, @at)",
                new[] { "1", "2" }.Select(t => new { id = c.Id, t, at = Time.ToWire(T0) }), tx);
        }, _ct);
        return Assert.Single(await Store.Refresh.FindCollectionsByAddressAsync(address.ToUpperInvariant().Replace("0X", "0x"), _ct));
    }

    private Task<IReadOnlyList<ClaimedToken>> ClaimAsync(string owner, int max, int turn = 1000, DateTimeOffset? now = null, Func<ClaimCandidate, int, int>? budget = null) =>
        Store.Refresh.ClaimTokensAsync(new TokenClaim(owner, max, turn, now ?? T0, TimeSpan.FromMinutes(1)) { Budget = budget }, _ct);

    /// <summary>A started refresh of <paramref name="tokens"/> tokens in a new project, fetched from <paramref name="baseUri"/>.</summary>
    private async Task<RefreshJob> StartedRefreshAsync(int tokens, string baseUri = "http://m.example/", RefreshCollection? collection = null)
    {
        collection ??= await NewCollectionAsync("0x" + Guid.NewGuid().ToString("N") + "00000000");
        var job = await Store.Refresh.CreateRefreshAsync(new NewRefresh(UuidV7.New(), collection, Enumerable.Range(1, tokens).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(), T0), _ct);
        while (await Store.Refresh.ClaimRefreshToStartAsync("starter", T0, TimeSpan.FromMinutes(1), _ct) is { } s)
        {
            await Store.Refresh.MarkRefreshStartedAsync(s.Seq, "starter", s.Seq == job.Seq ? baseUri : "http://m.example/", T0, _ct);
        }
        return job;
    }

    /// <summary>Leases every pending token (of this test and earlier ones), so a test starts and ends with none waiting.</summary>
    private async Task DrainAsync()
    {
        while ((await ClaimAsync("drain", 10_000)).Count > 0)
        {
        }
    }

    private static Dictionary<long, int> PerRefresh(IEnumerable<ClaimedToken> tokens) => tokens.GroupBy(t => t.RefreshSeq).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public async Task a_small_refresh_is_served_in_the_first_claim_beside_a_big_one_of_another_project()
    {
        await DrainAsync();
        var big = await StartedRefreshAsync(300);
        var small = await StartedRefreshAsync(5);

        var claimed = PerRefresh(await ClaimAsync("a", 100, turn: 20));

        // The big refresh is older, yet the claim goes round the projects: the small one gets all five.
        Assert.Equal(5, claimed[small.Seq]);
        Assert.Equal(95, claimed[big.Seq]);
        Assert.Equal(2, claimed.Count);
        await DrainAsync();
    }

    [Fact]
    public async Task claims_go_round_projects_least_recently_served_first_and_round_the_refreshes_of_a_project()
    {
        await DrainAsync();
        var first = await StartedRefreshAsync(100);
        var other = await StartedRefreshAsync(100);
        var sibling = await StartedRefreshAsync(100, collection: (await Store.Refresh.FindCollectionsByAddressAsync(
            (await Store.Refresh.GetRefreshAsync(first.RefreshId, _ct))!.CollectionAddress, _ct))[0]);

        // One turn per claim: never-served projects by age, then whoever was served least recently. The first
        // project's two refreshes take its turns in turn.
        var order = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            var claimed = await ClaimAsync("a", 10, turn: 10, now: T0.AddSeconds(i + 1));
            order.Add(Assert.Single(PerRefresh(claimed)).Key);
        }
        Assert.Equal([first.Seq, other.Seq, sibling.Seq, other.Seq, first.Seq, other.Seq], order);
        await DrainAsync();
    }

    [Fact]
    public async Task a_budget_decides_how_many_of_each_offer_are_taken_and_a_declined_refresh_waits_for_a_later_claim()
    {
        await DrainAsync();
        var slow = await StartedRefreshAsync(50, "http://slow.example/");
        var fast = await StartedRefreshAsync(50, "http://fast.example/");
        var offers = new List<(long Seq, int Offer)>();

        var claimed = PerRefresh(await ClaimAsync("a", 100, turn: 10, budget: (c, offer) =>
        {
            offers.Add((c.Seq, offer));
            return c.BaseUri == "http://slow.example/" ? 0 : offer;
        }));

        Assert.Equal(50, claimed[fast.Seq]);
        Assert.False(claimed.ContainsKey(slow.Seq));
        Assert.Single(offers, o => o.Seq == slow.Seq); // declined once, then left out of this claim's turns
        Assert.Equal(50, PerRefresh(await ClaimAsync("b", 100))[slow.Seq]);
        await DrainAsync();
    }

    [Fact]
    public async Task instances_claiming_at_once_never_hold_the_same_token()
    {
        await DrainAsync();
        var jobs = new List<RefreshJob>();
        for (var i = 0; i < 4; i++)
        {
            jobs.Add(await StartedRefreshAsync(200));
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var mine = new List<ClaimedToken>();
            IReadOnlyList<ClaimedToken> got;
            while ((got = await ClaimAsync($"instance-{i}", 50, turn: 16)).Count > 0)
            {
                mine.AddRange(got);
            }
            return mine;
        })));

        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(800, all.Count);
        Assert.Equal(800, all.Select(t => t.Id).Distinct().Count());
        Assert.All(jobs, j => Assert.Equal(200, all.Count(t => t.RefreshSeq == j.Seq)));
    }

    [Fact]
    public async Task a_refresh_goes_from_queued_through_leases_to_completed_with_counts_that_add_up()
    {
        var owner = "0x" + Guid.NewGuid().ToString("N") + "00000000";
        var collection = await NewCollectionAsync(owner);
        var job = await Store.Refresh.CreateRefreshAsync(new NewRefresh(UuidV7.New(), collection, ["1", "2", "3"], T0), _ct);
        Assert.Equal(RefreshStatus.Queued, (await Store.Refresh.GetRefreshAsync(job.RefreshId, _ct))!.Status);

        // Tokens of a refresh whose base URI is not known yet cannot be claimed.
        Assert.DoesNotContain(await ClaimAsync("a", 100), t => t.RefreshSeq == job.Seq);
        RefreshToStart? start;
        while ((start = await Store.Refresh.ClaimRefreshToStartAsync("a", T0, TimeSpan.FromMinutes(1), _ct)) is not null && start.Seq != job.Seq)
        {
            await Store.Refresh.MarkRefreshStartedAsync(start.Seq, "a", "http://m.example/", T0, _ct);
        }
        Assert.NotNull(start);
        Assert.Equal("1", start.FirstTokenId);
        Assert.Null(await Store.Refresh.ClaimRefreshToStartAsync("b", T0, TimeSpan.FromMinutes(1), _ct) is { } other && other.Seq == job.Seq ? other : null);
        await Store.Refresh.MarkRefreshStartedAsync(job.Seq, "a", "http://m.example/", T0, _ct);

        var claimed = (await ClaimAsync("a", 100)).Where(t => t.RefreshSeq == job.Seq).ToList();
        Assert.Equal(["1", "2", "3"], claimed.Select(t => t.TokenId));
        Assert.Equal([true, true, false], claimed.Select(t => t.Known));
        Assert.All(claimed, t => Assert.Equal("http://m.example/", t.BaseUri));
        Assert.DoesNotContain(await ClaimAsync("b", 100), t => t.RefreshSeq == job.Seq);

        await Store.Refresh.CompleteTokensAsync("a",
        [
            new TokenOutcome(claimed[0].Id, job.Seq, collection.CollectionId, "1", true, "http://m.example/1", 200, null, null, """{"name":"fresh"}"""),
            new TokenOutcome(claimed[1].Id, job.Seq, collection.CollectionId, "2", false, "http://m.example/2", 404, "nope", RefreshErrorCodes.InvalidResponseStatusCode, null),
        ], T0.AddSeconds(1), _ct);
        // An outcome from an instance that no longer holds the lease is ignored.
        await Store.Refresh.CompleteTokensAsync("b", [new TokenOutcome(claimed[2].Id, job.Seq, collection.CollectionId, "3", true, "u", 200, null, null, "{}")], T0, _ct);
        var mid = (await Store.Refresh.GetRefreshAsync(job.RefreshId, _ct))!;
        Assert.Equal((RefreshStatus.InProgress, 1, 1, 1), (mid.Status, mid.Succeeded, mid.Failed, mid.Pending));

        await Store.Refresh.CompleteTokensAsync("a", [new TokenOutcome(claimed[2].Id, job.Seq, collection.CollectionId, "3", false, "http://m.example/3", null, null, RefreshErrorCodes.TokenNotFound, null)], T0.AddSeconds(2), _ct);
        var done = (await Store.Refresh.GetRefreshAsync(job.RefreshId, _ct))!;
        Assert.Equal((RefreshStatus.Completed, 1, 2, 0), (done.Status, done.Succeeded, done.Failed, done.Pending));
        Assert.Equal(T0.AddSeconds(2), done.CompletedAt);
        Assert.Equal(owner, done.OwnerAddress);

        await using (var c = await Store.Database.OpenConnectionAsync(_ct))
        {
            var metadata = await c.QuerySingleAsync<string>("SELECT metadata FROM token WHERE collection_id = @id AND token_id = '1'", new { id = collection.CollectionId });
            Assert.Contains("fresh", metadata);
        }
        var page1 = await Store.Refresh.ListRefreshErrorsAsync(job.Seq, null, 1, _ct);
        Assert.True(page1.HasMore);
        var e = Assert.Single(page1.Items);
        Assert.Equal(("2", 404, "nope", RefreshErrorCodes.InvalidResponseStatusCode), (e.TokenId, e.StatusCode, e.Body, e.ErrorCode));
        var page2 = await Store.Refresh.ListRefreshErrorsAsync(job.Seq, e.Id, 1, _ct);
        Assert.False(page2.HasMore);
        Assert.Equal(RefreshErrorCodes.TokenNotFound, Assert.Single(page2.Items).ErrorCode);
    }

    [Fact]
    public async Task released_claims_are_taken_by_another_instance_and_lists_are_newest_first_per_owner()
    {
        var owner = "0x" + Guid.NewGuid().ToString("N") + "00000000";
        var collection = await NewCollectionAsync(owner);
        var first = await Store.Refresh.CreateRefreshAsync(new NewRefresh(UuidV7.New(), collection, ["1"], T0), _ct);
        var second = await Store.Refresh.CreateRefreshAsync(new NewRefresh(UuidV7.New(), collection, ["2"], T0), _ct);
        while (await Store.Refresh.ClaimRefreshToStartAsync("a", T0, TimeSpan.FromMinutes(1), _ct) is { } s)
        {
            await Store.Refresh.MarkRefreshStartedAsync(s.Seq, "a", "http://m.example/", T0, _ct);
        }
        Assert.Contains(await ClaimAsync("a", 1000), t => t.RefreshSeq == second.Seq);
        await Store.Refresh.ReleaseClaimsAsync("a", _ct);
        Assert.Contains(await ClaimAsync("b", 1000), t => t.RefreshSeq == second.Seq);

        var page = await Store.Refresh.ListRefreshesAsync(owner, null, null, 1, _ct);
        Assert.Equal(second.RefreshId, Assert.Single(page.Items).RefreshId);
        Assert.True(page.HasMore);
        var next = await Store.Refresh.ListRefreshesAsync(owner, collection.Address, page.Items[0].Seq, 10, _ct);
        Assert.Equal(first.RefreshId, Assert.Single(next.Items).RefreshId);
        Assert.False(next.HasMore);
        Assert.Empty((await Store.Refresh.ListRefreshesAsync("0x0000000000000000000000000000000000000001", null, null, 10, _ct)).Items);
    }
}

public sealed class SqliteRefreshStoreTests(SqliteBackend backend) : RefreshStoreTests<SqliteBackend>(backend);

public sealed class PostgresRefreshStoreTests(PostgresBackend backend) : RefreshStoreTests<PostgresBackend>(backend);
