using OpenMint.Core.Refresh;

namespace OpenMint.Api.Tests.Refresh;

/// <summary>The per-origin queues and slots of one instance, without HTTP: who gets a free slot, and when the feeder is woken.</summary>
public sealed class OriginSchedulerTests
{
    private static ClaimedToken Token(long id, long refresh, string baseUri) => new(id, refresh, 1, id.ToString(System.Globalization.CultureInfo.InvariantCulture), baseUri, true);

    private static List<ScheduledFetch> StartAll(OriginScheduler scheduler)
    {
        var started = new List<ScheduledFetch>();
        while (scheduler.TryStart(out var fetch))
        {
            started.Add(fetch);
        }
        return started;
    }

    [Fact]
    public void free_slots_go_round_the_origins_and_round_the_refreshes_of_an_origin_within_the_limits()
    {
        var scheduler = new OriginScheduler(new RefreshOptions { MaxConcurrency = 5, MaxConcurrencyPerOrigin = 3 }, () => { });
        // Origin "slow" has two refreshes (10 and 11) queued before origin "fast" has any.
        scheduler.Add([.. Enumerable.Range(1, 6).Select(i => Token(i, 10, "http://slow.example/")), .. Enumerable.Range(7, 3).Select(i => Token(i, 11, "http://SLOW.example:80/"))]);
        scheduler.Add([.. Enumerable.Range(20, 4).Select(i => Token(i, 12, "http://fast.example/"))]);

        var started = StartAll(scheduler);

        // Five slots in all, three per origin: slow, fast, slow, fast, slow, and refreshes 10 and 11 alternate on "slow".
        Assert.Equal(["http://slow.example:80", "http://fast.example:80", "http://slow.example:80", "http://fast.example:80", "http://slow.example:80"], started.Select(f => f.Origin));
        Assert.Equal([10L, 11L, 10L], started.Where(f => f.Origin.Contains("slow", StringComparison.Ordinal)).Select(f => f.Token.RefreshSeq));
        Assert.Equal(9 + 4 - 5, scheduler.Queued);

        // A slot of the slow origin frees: the fast origin is next in line, since "slow" had the last turn.
        scheduler.Finish(started[0]);
        var next = Assert.Single(StartAll(scheduler));
        Assert.Equal("http://fast.example:80", next.Origin);
    }

    [Fact]
    public void an_origin_whose_claim_was_cut_short_wakes_the_feeder_once_it_has_drained_to_half_its_backlog()
    {
        var woken = 0;
        var options = new RefreshOptions { MaxConcurrency = 100, MaxConcurrencyPerOrigin = 2, ClaimTurnSize = 4 };
        var scheduler = new OriginScheduler(options, () => woken++);
        var budget = scheduler.ClaimBudget();
        var candidate = new ClaimCandidate(1, "p", "http://slow.example/", 0);

        Assert.Equal(4, budget(candidate, 4)); // backlog: max(2 × 2, 4) = 4
        Assert.Equal(0, budget(candidate, 4)); // the same origin within the same claim: full
        scheduler.Add([.. Enumerable.Range(1, 4).Select(i => Token(i, 1, "http://slow.example/"))]);
        Assert.Equal(0, scheduler.ClaimBudget()(candidate, 4));

        var started = StartAll(scheduler); // two start: the queue is at 2 = half the backlog
        Assert.Equal(2, started.Count);
        Assert.Equal(1, woken);
        scheduler.Finish(started[0]);
        StartAll(scheduler);
        Assert.Equal(1, woken); // once per cut-short claim, not per token
        Assert.Equal(3, scheduler.ClaimBudget()(candidate, 4)); // one queued: room for three
    }
}
