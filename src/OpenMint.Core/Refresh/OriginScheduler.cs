namespace OpenMint.Core.Refresh;

/// <summary>
/// This instance's claimed tokens, queued per origin (scheme, host, port of the token's URL), and the fetch slots they
/// may use: at most <c>Refresh:MaxConcurrency</c> in flight in all and <c>Refresh:MaxConcurrencyPerOrigin</c> per origin.
/// Free slots go round the origins in turn, and within an origin round its refreshes, so a slow origin's backlog never
/// holds slots a fast origin could use and a big refresh does not starve a small one on the same origin. Thread-safe.
/// It also tells the feeder when to claim again: when an origin whose claims were cut short has drained to half its
/// backlog, or when the whole queue has drained to half.
/// </summary>
internal sealed class OriginScheduler(RefreshOptions options, Action wake)
{
    private readonly object _lock = new();
    private readonly Dictionary<string, Origin> _origins = new(StringComparer.Ordinal);
    private readonly LinkedList<Origin> _ready = new();
    private readonly HashSet<string> _hungry = new(StringComparer.Ordinal);
    private int _inFlight;
    private int _queued;
    private bool _wantRoom;

    /// <summary>Tokens queued, not yet in flight.</summary>
    public int Queued
    {
        get
        {
            lock (_lock)
            {
                return _queued;
            }
        }
    }

    /// <summary>How many tokens the next claim may bring (0, and a wake-up later, when the queue is too full for a turn).</summary>
    public int Room()
    {
        lock (_lock)
        {
            var room = options.ClaimBatchSize - _queued;
            _wantRoom = room < Math.Min(options.ClaimTurnSize, Math.Max(1, options.ClaimBatchSize / 2));
            return _wantRoom ? 0 : room;
        }
    }

    /// <summary>
    /// The budget of one claim (<see cref="TokenClaim.Budget"/>): each origin may bring what keeps its queue within its
    /// backlog. An origin cut short is remembered, and the feeder woken once it has drained to half.
    /// </summary>
    public Func<ClaimCandidate, int, int> ClaimBudget()
    {
        var planned = new Dictionary<string, int>(StringComparer.Ordinal);
        return (candidate, offer) =>
        {
            var origin = TokenIds.Origin(TokenIds.MetadataUrl(candidate.BaseUri, "0"));
            lock (_lock)
            {
                var queued = _origins.TryGetValue(origin, out var o) ? o.Queued : 0;
                var granted = Math.Clamp(options.OriginBacklog - queued - planned.GetValueOrDefault(origin), 0, offer);
                planned[origin] = planned.GetValueOrDefault(origin) + granted;
                if (granted < offer)
                {
                    _hungry.Add(origin);
                }
                return granted;
            }
        };
    }

    public void Add(IReadOnlyList<ClaimedToken> tokens)
    {
        lock (_lock)
        {
            foreach (var token in tokens)
            {
                var url = TokenIds.MetadataUrl(token.BaseUri, token.TokenId);
                var key = TokenIds.Origin(url);
                if (!_origins.TryGetValue(key, out var origin))
                {
                    _origins[key] = origin = new Origin(key);
                }
                origin.Enqueue(new ScheduledFetch(token, url, key));
                if (origin.Node.List is null)
                {
                    _ready.AddLast(origin.Node);
                }
                _queued++;
            }
        }
    }

    /// <summary>The next token to fetch, taking a slot of its origin; false when no slot or no token is free.</summary>
    public bool TryStart(out ScheduledFetch fetch)
    {
        var wakeFeeder = false;
        fetch = null!;
        lock (_lock)
        {
            if (_inFlight >= options.MaxConcurrency)
            {
                return false;
            }
            for (var node = _ready.First; node is not null; node = node.Next)
            {
                var origin = node.Value;
                if (origin.InFlight >= options.MaxConcurrencyPerOrigin)
                {
                    continue;
                }
                fetch = origin.Dequeue();
                origin.InFlight++;
                _inFlight++;
                _queued--;
                _ready.Remove(node);
                if (origin.Queued > 0)
                {
                    _ready.AddLast(node); // its next token waits for the other origins' turns
                }
                wakeFeeder = DrainedEnough(origin);
                break;
            }
        }
        if (wakeFeeder)
        {
            wake();
        }
        return fetch is not null;
    }

    /// <summary>Gives back the slot of a fetch that ended.</summary>
    public void Finish(ScheduledFetch fetch)
    {
        lock (_lock)
        {
            var origin = _origins[fetch.Origin];
            origin.InFlight--;
            _inFlight--;
            if (origin.InFlight == 0 && origin.Queued == 0)
            {
                _origins.Remove(fetch.Origin);
            }
        }
    }

    private bool DrainedEnough(Origin origin)
    {
        var wakeFeeder = false;
        if (origin.Queued <= options.OriginBacklog / 2 && _hungry.Remove(origin.Key))
        {
            wakeFeeder = true;
        }
        if (_wantRoom && _queued <= options.ClaimBatchSize / 2)
        {
            _wantRoom = false;
            wakeFeeder = true;
        }
        return wakeFeeder;
    }

    /// <summary>One origin's queue: a line per refresh, served in turn.</summary>
    private sealed class Origin
    {
        private readonly Dictionary<long, Queue<ScheduledFetch>> _byRefresh = [];
        private readonly Queue<long> _turns = new();

        public Origin(string key)
        {
            Key = key;
            Node = new LinkedListNode<Origin>(this);
        }

        public string Key { get; }
        public LinkedListNode<Origin> Node { get; }
        public int InFlight { get; set; }
        public int Queued { get; private set; }

        public void Enqueue(ScheduledFetch fetch)
        {
            if (!_byRefresh.TryGetValue(fetch.Token.RefreshSeq, out var line))
            {
                _byRefresh[fetch.Token.RefreshSeq] = line = new Queue<ScheduledFetch>();
                _turns.Enqueue(fetch.Token.RefreshSeq);
            }
            line.Enqueue(fetch);
            Queued++;
        }

        public ScheduledFetch Dequeue()
        {
            var seq = _turns.Dequeue();
            var line = _byRefresh[seq];
            var fetch = line.Dequeue();
            if (line.Count > 0)
            {
                _turns.Enqueue(seq);
            }
            else
            {
                _byRefresh.Remove(seq);
            }
            Queued--;
            return fetch;
        }
    }
}

/// <summary>A claimed token on its way to a fetch slot: its URL and the origin whose slot it takes.</summary>
internal sealed record ScheduledFetch(ClaimedToken Token, string Url, string Origin);
