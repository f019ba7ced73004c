using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>When partial batches may still wait: learned from the heads a sender sees, on a clock moved by hand.</summary>
public class BlockClockTests
{
    private const long GasLimit = 30_000_000;
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly PipelineOptions Options = new() { PollInterval = TimeSpan.FromMilliseconds(500), BlockSendLead = TimeSpan.FromMilliseconds(400) };

    private static BlockInfo Head(long number, double seconds) => new(number, GasLimit, 0, 1, T0.ToUnixTimeSeconds() + (long)seconds);

    /// <summary>Ticks every half second from <paramref name="from"/> to <paramref name="to"/> on a chain with a block every 2 s (block n at 2n s).</summary>
    private static void Run(BlockClock clock, double from, double to, bool busy = false)
    {
        for (var t = from; t <= to; t += 0.5)
        {
            var head = (long)Math.Floor(t / 2);
            clock.Observe(Head(head, head * 2), T0.AddSeconds(t));
            if (busy)
            {
                clock.Busy();
            }
        }
    }

    [Fact]
    public void blocks_that_come_by_themselves_teach_the_interval_and_partials_wait_until_the_last_tick_before_the_next_block()
    {
        var clock = new BlockClock(Options);
        Assert.Null(clock.HoldPartialsUntil(0, GasLimit));
        Run(clock, 0, 6.5);
        Assert.True(clock.Scheduled);
        Assert.Equal(TimeSpan.FromSeconds(2), clock.Interval);
        Assert.Equal(TimeSpan.FromSeconds(2), clock.SteadyInterval);
        var until = clock.HoldPartialsUntil(0, GasLimit);
        Assert.NotNull(until);
        // Block 4 comes at 8 s; each head was seen between two ticks (taken as their midpoint, 0.25 s early),
        // and a tx sent at the last tick before 8 s - lead still makes it.
        Assert.Equal(T0.AddMilliseconds(8000 - 250 - 400 - 500), until);
    }

    [Fact]
    public void blocks_that_only_follow_our_own_txs_never_make_a_schedule_so_partials_go_at_once()
    {
        var clock = new BlockClock(Options);
        Run(clock, 0, 20, busy: true);
        Assert.Equal(TimeSpan.FromSeconds(2), clock.Interval);
        Assert.False(clock.Scheduled);
        Assert.Null(clock.HoldPartialsUntil(0, GasLimit));
        Assert.Null(clock.SteadyInterval); // no burst is told on a chain that only follows our txs
    }

    [Fact]
    public void a_block_that_does_not_come_while_nothing_of_ours_waits_drops_the_schedule_until_blocks_come_by_themselves_again()
    {
        var clock = new BlockClock(Options);
        Run(clock, 0, 6.5);
        Assert.True(clock.Scheduled);
        for (var t = 7.0; t <= 10; t += 0.5)
        {
            clock.Observe(Head(3, 6), T0.AddSeconds(t)); // block 4 was due at 8 s
        }
        Assert.False(clock.Scheduled);
        Assert.Null(clock.HoldPartialsUntil(0, GasLimit));
        clock.Observe(Head(4, 10), T0.AddSeconds(10.5));
        Assert.False(clock.Scheduled); // one block is not yet a schedule
        clock.Observe(Head(5, 12), T0.AddSeconds(12.5));
        Assert.True(clock.Scheduled);
    }

    [Fact]
    public void while_our_txs_in_flight_fill_the_next_block_partials_keep_filling_whatever_the_schedule()
    {
        var clock = new BlockClock(Options);
        Assert.Equal(DateTimeOffset.MaxValue, clock.HoldPartialsUntil(GasLimit, GasLimit));
        Assert.Null(clock.HoldPartialsUntil(GasLimit - 1, GasLimit));
    }

    [Fact]
    public void blocks_faster_than_the_sender_ticks_leave_nothing_to_wait_for()
    {
        var clock = new BlockClock(Options);
        for (var t = 0; t <= 10; t++)
        {
            clock.Observe(Head(2 * t, t), T0.AddSeconds(t)); // two blocks a second, a tick every second
        }
        Assert.True(clock.Scheduled);
        Assert.Equal(TimeSpan.FromMilliseconds(500), clock.Interval);
        Assert.Null(clock.HoldPartialsUntil(0, GasLimit));
        Assert.Null(clock.SteadyInterval);
    }

    [Fact]
    public void a_node_that_went_back_is_learned_again()
    {
        var clock = new BlockClock(Options);
        Run(clock, 0, 6.5);
        clock.Observe(Head(1, 20), T0.AddSeconds(21));
        Assert.False(clock.Scheduled);
        Assert.Null(clock.Interval);
    }

    [Fact]
    public void a_sender_that_starts_on_a_chain_making_steady_blocks_trusts_the_schedule_at_once()
    {
        var clock = new BlockClock(Options);
        var history = Enumerable.Range(6, 5).Select(n => Head(n, n * 2)).ToList(); // blocks 6..10 at 12..20 s
        clock.Observe(history[^1], T0.AddSeconds(20.3));
        clock.Seed(history, T0.AddSeconds(20.3));
        Assert.True(clock.Scheduled);
        Assert.Equal(TimeSpan.FromSeconds(2), clock.Interval);
        // Block 11 is due at 22 s, taken from the timestamps (whole seconds: early, never late).
        Assert.Equal(T0.AddMilliseconds(22_000 - 400 - 500), clock.HoldPartialsUntil(0, GasLimit));
    }

    [Fact]
    public void history_of_an_automine_chain_idle_for_a_while_or_of_a_burst_of_blocks_is_no_schedule()
    {
        var idle = new BlockClock(Options);
        var old = Enumerable.Range(6, 5).Select(n => Head(n, n * 2)).ToList();
        idle.Observe(old[^1], T0.AddSeconds(600)); // the last block is ten minutes old
        idle.Seed(old, T0.AddSeconds(600));
        Assert.False(idle.Scheduled);
        var burst = new BlockClock(Options);
        var same = Enumerable.Range(6, 5).Select(n => Head(n, 20)).ToList(); // deployments: five blocks in one second
        burst.Observe(same[^1], T0.AddSeconds(20.5));
        burst.Seed(same, T0.AddSeconds(20.5));
        Assert.False(burst.Scheduled);
        Assert.Null(burst.HoldPartialsUntil(0, GasLimit));
    }
}
