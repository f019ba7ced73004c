namespace OpenMint.Core.Pipeline;

/// <summary>
/// Learns when the chain produces its next block, from the heads the sender sees each tick (HTTP polling; no
/// subscription needed), and says how long a partly filled batch may still wait for company without missing the
/// block it would land in. Holding a request past that block only to grow its batch saves a tx's fixed cost
/// (~31k gas) and costs a whole block time, so it never happens (see docs/transactions.md).
/// <list type="bullet">
/// <item>Interval: from the block timestamps of the heads seen (a window of <see cref="Window"/> heads).</item>
/// <item>Phase: when each head appeared, taken as the midpoint between the tick that first saw it and the tick
/// before (when that one saw its parent); the earliest extrapolation of the last few heads is the expected time.</item>
/// <item>A schedule is trusted only after <see cref="IdleHeadsNeeded"/> blocks came while none of our txs were in
/// flight: the chain makes blocks by itself. On an automine chain (each tx its own block) blocks come only after
/// our sends, so it never is, and everything goes at once; timing our own blocks would only fulfil itself. When an
/// expected block does not come while nothing of ours waits, the schedule is dropped until idle blocks come again.</item>
/// <item>Saturation: when the txs already in flight fill at least the next block, a new tx cannot land before the
/// one after, so partial batches keep filling while the pool is backed up (the block-filling plan). <see cref="BatchPreparer"/>
/// also holds each partial batch the next block has no room for after the full batches ready with it, and all of them
/// while a burst arrives (told by <see cref="SteadyInterval"/>).</item>
/// </list>
/// </summary>
internal sealed class BlockClock(PipelineOptions options)
{
    /// <summary>Heads the interval is learned from.</summary>
    public const int Window = 32;

    /// <summary>Recent heads the next block's time is extrapolated from.</summary>
    private const int PhaseWindow = 4;

    private readonly List<Head> _heads = [];
    private DateTimeOffset? _lastTick;
    /// <summary>Blocks seen arriving with nothing of ours in flight before a schedule is trusted.</summary>
    public const int IdleHeadsNeeded = 2;

    private bool _busy;
    private int _idleHeads;

    private sealed record Head(long Number, long Timestamp, DateTimeOffset SeenAt);

    /// <summary>The learned block interval, or null while fewer than two heads (with timestamps a second apart) were seen.</summary>
    public TimeSpan? Interval
    {
        get
        {
            if (_heads.Count < 2 || _heads[^1].Timestamp <= _heads[0].Timestamp)
            {
                return _heads.Count >= 2 && _heads[^1].Number > _heads[0].Number ? TimeSpan.Zero : null;
            }
            return TimeSpan.FromSeconds((double)(_heads[^1].Timestamp - _heads[0].Timestamp) / (_heads[^1].Number - _heads[0].Number));
        }
    }

    /// <summary>
    /// The learned interval once the schedule is trusted (<see cref="Scheduled"/>: the chain makes blocks by itself) and
    /// the interval is longer than the sender's tick plus <see cref="PipelineOptions.BlockSendLead"/>; else null (unknown,
    /// automine, or blocks faster than the sender ticks). <see cref="BatchPreparer"/> tells a burst by it.
    /// </summary>
    public TimeSpan? SteadyInterval => Scheduled && Interval is { } interval && interval > options.PollInterval + options.BlockSendLead ? interval : null;

    /// <summary>True once the chain was seen making blocks by itself (and has not missed one since while nothing of ours waited).</summary>
    public bool Scheduled => _idleHeads >= IdleHeadsNeeded;

    /// <summary>The head this tick, seen at <paramref name="now"/>.</summary>
    public void Observe(BlockInfo block, DateTimeOffset now)
    {
        var previousTick = _lastTick;
        _lastTick = now;
        if (_heads.Count > 0 && block.Number < _heads[^1].Number)
        {
            _heads.Clear(); // the node went back (restart, reorg): learn again
            _idleHeads = 0;
        }
        if (_heads.Count == 0 || block.Number > _heads[^1].Number)
        {
            if (_heads.Count > 0 && !_busy)
            {
                _idleHeads++; // a block came with nothing of ours waiting: the chain makes blocks by itself
            }
            var seenAt = _heads.Count > 0 && block.Number == _heads[^1].Number + 1 && previousTick is { } before
                ? before + (now - before) / 2
                : now;
            _heads.Add(new Head(block.Number, block.Timestamp, seenAt));
            if (_heads.Count > Window)
            {
                _heads.RemoveAt(0);
            }
            _busy = false;
            return;
        }
        if (!_busy && Scheduled && Interval is { } interval && ExpectedAt(_heads[^1].Number + 1) is { } due
            && now > due + interval / 2 + options.PollInterval)
        {
            _idleHeads = 0; // the block was due and did not come, with nothing of ours to mine
        }
    }

    /// <summary>Blocks read back from the chain's history when the sender starts (<see cref="Seed"/>).</summary>
    public const int HistoryBlocks = 4;

    /// <summary>True until the first head is observed: the sender then reads <see cref="HistoryBlocks"/> blocks before it.</summary>
    public bool Empty => _heads.Count == 0;

    /// <summary>
    /// The blocks just before the first head seen (oldest first, the head last). When they came at a steady interval
    /// of at least a second and the head is recent, the chain makes blocks by itself: the schedule is trusted at once
    /// instead of after <see cref="IdleHeadsNeeded"/> idle blocks (a sender that starts into a burst of requests never
    /// sees an idle block). Their times are taken from their timestamps, which run early by up to a second (whole
    /// seconds), so the first sends come early rather than late; heads seen later refine it.
    /// </summary>
    public void Seed(IReadOnlyList<BlockInfo> blocks, DateTimeOffset now)
    {
        if (_heads.Count != 1 || blocks.Count < 3 || blocks[^1].Number != _heads[0].Number)
        {
            return;
        }
        var gaps = blocks.Zip(blocks.Skip(1), (a, b) => (Blocks: b.Number - a.Number, Seconds: b.Timestamp - a.Timestamp)).ToList();
        if (gaps.Any(g => g.Blocks != 1))
        {
            return;
        }
        var interval = (double)(blocks[^1].Timestamp - blocks[0].Timestamp) / (blocks.Count - 1);
        var steady = interval >= 1 && gaps.All(g => g.Seconds >= interval / 2 && g.Seconds <= interval * 1.5);
        if (!steady || (now - DateTimeOffset.FromUnixTimeSeconds(blocks[^1].Timestamp)).TotalSeconds > interval * 2 + 1)
        {
            return;
        }
        _heads.Clear();
        _heads.AddRange(blocks.Select(b => new Head(b.Number, b.Timestamp, DateTimeOffset.FromUnixTimeSeconds(b.Timestamp))));
        _idleHeads = IdleHeadsNeeded;
    }

    /// <summary>Some tx of ours is in flight (or was just sent): a block that comes now may have been made for it.</summary>
    public void Busy() => _busy = true;

    /// <summary>
    /// Until when partial batches may keep waiting for company, given the gas of the txs already in flight: null
    /// when they go now (no schedule trusted, e.g. on an automine chain, or blocks faster than the sender ticks);
    /// <see cref="DateTimeOffset.MaxValue"/> while the txs in flight fill the next block (saturation; the caller caps
    /// the wait with <see cref="PipelineOptions.MaxBatchWait"/>); else the last moment that still makes the next block.
    /// </summary>
    public DateTimeOffset? HoldPartialsUntil(long inFlightGas, long blockGasLimit)
    {
        if (blockGasLimit > 0 && inFlightGas >= blockGasLimit)
        {
            return DateTimeOffset.MaxValue;
        }
        if (!Scheduled || Interval is not { } interval || interval <= options.PollInterval + options.BlockSendLead)
        {
            return null;
        }
        // The next tick comes about a poll interval later: the last tick that may still wait is one before the send time.
        return ExpectedAt(_heads[^1].Number + 1) - options.BlockSendLead - options.PollInterval;
    }

    /// <summary>When block <paramref name="number"/> is expected here, from the last few heads (the earliest guess).</summary>
    internal DateTimeOffset? ExpectedAt(long number)
    {
        if (Interval is not { } interval)
        {
            return null;
        }
        DateTimeOffset? earliest = null;
        for (var i = Math.Max(0, _heads.Count - PhaseWindow); i < _heads.Count; i++)
        {
            var guess = _heads[i].SeenAt + interval * (number - _heads[i].Number);
            earliest = earliest is null || guess < earliest ? guess : earliest;
        }
        return earliest;
    }
}
