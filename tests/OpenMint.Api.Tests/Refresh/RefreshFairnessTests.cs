using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Refresh;

/// <summary>
/// Fair refreshes over real HTTP: a slow origin (requests held until the test opens its gate) and a fast one, two
/// projects, one OpenMint host. Asserts order and progress, never timings (speed lives in the refresh-fairness bench).
/// </summary>
public sealed class RefreshFairnessTests : IAsyncLifetime
{
    private const int PerOrigin = 4;
    private MetadataTestServer _slow = null!;
    private MetadataTestServer _fast = null!;
    private RefreshTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _slow = await MetadataTestServer.StartAsync();
        _fast = await MetadataTestServer.StartAsync();
        _host = await RefreshTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Refresh:AllowLoopback"] = "true",
            ["Refresh:MaxConcurrencyPerOrigin"] = PerOrigin.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Held requests must not time out while the test looks: a long attempt deadline, and a lease that outlasts it.
            ["Refresh:AttemptTimeout"] = "00:05:00",
            ["Refresh:ClaimLease"] = "00:30:00",
            ["Refresh:PollInterval"] = "00:00:00.100",
        });
    }

    public async Task DisposeAsync()
    {
        _slow.OpenGate();
        await _host.DisposeAsync();
        await _slow.DisposeAsync();
        await _fast.DisposeAsync();
    }

    [Fact]
    public async Task a_small_refresh_from_a_fast_origin_completes_while_a_big_one_from_a_stuck_origin_has_barely_begun()
    {
        var big = await _host.AddCollectionAsync(await _host.AddProjectAsync(), _slow.Base + "gated/");
        var small = await _host.AddCollectionAsync(await _host.AddProjectAsync(), _fast.Base + "ok/");
        var bigIds = Enumerable.Range(1, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        await _host.AddTokensAsync(big, bigIds);
        await _host.AddTokensAsync(small, Enumerable.Range(1, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var bigRefresh = await _host.CreateRefreshAsync(big, bigIds);
        // The big refresh is fetching: its origin's slots are all taken by requests that do not answer.
        await Eventually.TrueAsync(() => Task.FromResult(_slow.GatedInFlight == PerOrigin), "the slow origin to hold its slots", TimeSpan.FromSeconds(60));

        var smallRefresh = await _host.CreateRefreshAsync(small, Enumerable.Range(1, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var smallDone = await _host.WaitCompletedAsync(smallRefresh, 10);
        Assert.Equal(10, smallDone.GetProperty("summary").GetProperty("succeeded").GetInt32());

        var bigNow = (await _host.GetStatusAsync(bigRefresh)).GetProperty("summary");
        Assert.Equal(0, bigNow.GetProperty("succeeded").GetInt32());
        Assert.True(bigNow.GetProperty("pending").GetInt32() >= 1000 - PerOrigin, $"the big refresh should have barely begun: {bigNow}");

        _slow.OpenGate();
        var bigDone = await _host.WaitCompletedAsync(bigRefresh, 1000, TimeSpan.FromMinutes(3));
        Assert.Equal(1000, bigDone.GetProperty("summary").GetProperty("succeeded").GetInt32());
        // Never more than the per-origin limit at once, though 1,000 tokens were claimable.
        Assert.Equal(PerOrigin, _slow.GatedMaxInFlight);
    }

    [Fact]
    public async Task requests_to_one_origin_never_exceed_the_per_origin_limit_while_other_origins_proceed()
    {
        var project = await _host.AddProjectAsync();
        var stuck = await _host.AddCollectionAsync(project, _slow.Base + "gated/");
        var free = await _host.AddCollectionAsync(project, _fast.Base + "ok/");
        var ids = Enumerable.Range(1, 60).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        await _host.AddTokensAsync(stuck, ids);
        await _host.AddTokensAsync(free, ids);

        var stuckRefresh = await _host.CreateRefreshAsync(stuck, ids);
        var freeRefresh = await _host.CreateRefreshAsync(free, ids);
        // Same project, two origins: the free origin's 60 tokens all complete while the stuck one holds its slots.
        await _host.WaitCompletedAsync(freeRefresh, ids.Count);
        Assert.Equal(PerOrigin, _slow.GatedInFlight);
        Assert.Equal(ids.Count, _fast.Hits("/ok/1") + ids.Skip(1).Sum(id => _fast.Hits($"/ok/{id}")));

        _slow.OpenGate();
        await _host.WaitCompletedAsync(stuckRefresh, ids.Count, TimeSpan.FromMinutes(2));
        Assert.Equal(PerOrigin, _slow.GatedMaxInFlight);
        Assert.Equal(ids.Count, ids.Sum(id => _slow.Hits($"/gated/{id}")));
    }
}
