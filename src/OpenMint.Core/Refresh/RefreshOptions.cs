namespace OpenMint.Core.Refresh;

/// <summary>Settings of the metadata refresh API and fetcher, bound from configuration section <c>Refresh</c>.</summary>
public sealed class RefreshOptions
{
    public const string Section = "Refresh";

    /// <summary>How far <c>x-imx-eth-timestamp</c> may be from server time, either way.</summary>
    public int TimestampToleranceSeconds { get; set; } = 300;

    /// <summary>Pins the clock the auth check uses (unix seconds). Tests only: lets the signing test vector of docs/api.md verify.</summary>
    public long? AuthClockUnixSeconds { get; set; }

    /// <summary>Fetch from private, loopback, link-local, CGNAT and ULA addresses too. Off in production.</summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>Fetch from loopback addresses (<c>openmint dev</c> turns this on for its demo metadata server).</summary>
    public bool AllowLoopback { get; set; }

    /// <summary>Exact <c>ip:port</c> endpoints allowed even when the guard refuses their address class (an operator's internal metadata host).</summary>
    public List<string> AllowedEndpoints { get; set; } = [];

    /// <summary>Token fetches in flight per worker instance, over all origins.</summary>
    public int MaxConcurrency { get; set; } = 256;

    /// <summary>
    /// Requests in flight (and connections) per origin (scheme, host, port of the token's URL). Each origin has its own
    /// queue and slots, so a slow origin's backlog never takes the slots a fast one needs. 64 keeps a metadata server
    /// busy without queueing hundreds of requests inside it (see BENCHMARKS.md: 64 beat 128 on a 32-worker server).
    /// </summary>
    public int MaxConcurrencyPerOrigin { get; set; } = 64;

    /// <summary>The setting's former name; still set, it stops the start with a message naming the new one.</summary>
    public int? MaxConnectionsPerOrigin { get; set; }

    /// <summary>Deadline of one attempt: connect, headers and body.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Retries after the first attempt, only on 429 and 503.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>First backoff delay; doubles per retry, plus up to 50% jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest <c>Retry-After</c> honoured; longer values are cut to this.</summary>
    public TimeSpan RetryAfterCap { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest metadata body read; reading stops beyond it and the token fails.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Bytes of a bad response kept for the errors page.</summary>
    public int StoredBodyBytes { get; set; } = 2048;

    public int MaxRedirects { get; set; } = 3;

    /// <summary>Most tokens leased per claim, and most tokens an instance holds queued (not yet in flight).</summary>
    public int ClaimBatchSize { get; set; } = 512;

    /// <summary>
    /// Tokens one refresh gets per turn of a claim: a claim goes round the projects with unfinished refreshes, least
    /// recently served first, giving each refresh at most this many before the next one's turn.
    /// </summary>
    public int ClaimTurnSize { get; set; } = 64;

    /// <summary>Tokens an instance keeps queued per origin beyond those in flight: twice the origin's slots, at least one turn.</summary>
    internal int OriginBacklog => Math.Max(2 * MaxConcurrencyPerOrigin, ClaimTurnSize);

    /// <summary>How long a claim holds before another instance may take the token (a crashed worker's tokens come back after this).</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Idle poll when no work is queued (new refreshes on this instance wake the worker at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Deadline of the eth_call reading baseURI()/uri(id) when a refresh starts.</summary>
    public TimeSpan RpcTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Every problem with these values, each naming the setting to fix and an example value; empty when they can work.</summary>
    public IEnumerable<string> Validate()
    {
        if (TimestampToleranceSeconds <= 0) yield return "Refresh:TimestampToleranceSeconds must be > 0, e.g. 300 (the default)";
        if (MaxConcurrency is <= 0 or > 4096) yield return "Refresh:MaxConcurrency must be 1..4096, e.g. 256 (the default)";
        if (MaxConcurrencyPerOrigin is <= 0 or > 1024) yield return "Refresh:MaxConcurrencyPerOrigin must be 1..1024, e.g. 64 (the default)";
        if (MaxConcurrencyPerOrigin > MaxConcurrency) yield return "Refresh:MaxConcurrencyPerOrigin must not exceed Refresh:MaxConcurrency, e.g. 64 and 256 (the defaults)";
        if (MaxConnectionsPerOrigin is not null) yield return "Refresh:MaxConnectionsPerOrigin was renamed: set Refresh:MaxConcurrencyPerOrigin instead, e.g. 64 (the default)";
        if (AttemptTimeout <= TimeSpan.Zero) yield return "Refresh:AttemptTimeout must be positive, e.g. 00:00:03 (the default)";
        if (MaxRetries is < 0 or > 10) yield return "Refresh:MaxRetries must be 0..10, e.g. 2 (the default)";
        if (MaxBodyBytes <= 0) yield return "Refresh:MaxBodyBytes must be > 0, e.g. 1048576 (the default)";
        if (StoredBodyBytes is < 0 or > 65536) yield return "Refresh:StoredBodyBytes must be 0..65536, e.g. 2048 (the default)";
        if (ClaimBatchSize <= 0) yield return "Refresh:ClaimBatchSize must be > 0, e.g. 512 (the default)";
        if (ClaimTurnSize <= 0 || ClaimTurnSize > ClaimBatchSize) yield return "Refresh:ClaimTurnSize must be 1..Refresh:ClaimBatchSize, e.g. 64 (the default)";
        if (ClaimLease <= AttemptTimeout * (MaxRetries + 1) + RetryAfterCap * MaxRetries)
        {
            yield return "Refresh:ClaimLease must outlast every attempt and retry of one token "
                + "(Refresh:AttemptTimeout × (Refresh:MaxRetries + 1) + Refresh:RetryAfterCap × Refresh:MaxRetries), e.g. 00:02:00 (the default)";
        }
        if (PollInterval <= TimeSpan.Zero) yield return "Refresh:PollInterval must be positive, e.g. 00:00:00.5 (the default)";
        if (RpcTimeout <= TimeSpan.Zero) yield return "Refresh:RpcTimeout must be positive, e.g. 00:00:10 (the default)";
        foreach (var e in AllowedEndpoints)
        {
            if (!System.Net.IPEndPoint.TryParse(e, out var ep) || ep.Port == 0)
            {
                yield return $"Refresh:AllowedEndpoints entry '{e}' must be ip:port, e.g. 10.0.0.5:8080";
            }
        }
    }
}
