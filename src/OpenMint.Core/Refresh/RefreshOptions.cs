namespace OpenMint.Core.Refresh;

/// <summary>Settings of the metadata refresh API and fetcher, bound from configuration section <c>Refresh</c>.</summary>
public sealed class RefreshOptions
{
    public const string Section = "Refresh";

    /// <summary>How far <c>x-imx-eth-timestamp</c> may be from server time, either way.</summary>
    public int TimestampToleranceSeconds { get; set; } = 300;

    /// <summary>Pins the clock the auth check uses (unix seconds). Tests only: lets the API.md vector verify.</summary>
    public long? AuthClockUnixSeconds { get; set; }

    /// <summary>Fetch from private, loopback, link-local, CGNAT and ULA addresses too. Off in production.</summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>Fetch from loopback addresses (<c>openmint dev</c> turns this on for its demo metadata server).</summary>
    public bool AllowLoopback { get; set; }

    /// <summary>Exact <c>ip:port</c> endpoints allowed even when the guard refuses their address class (an operator's internal metadata host).</summary>
    public List<string> AllowedEndpoints { get; set; } = [];

    /// <summary>Token fetches in flight per worker instance.</summary>
    public int MaxConcurrency { get; set; } = 256;

    /// <summary>
    /// Connections (and requests in flight) per origin (scheme, host, port). 64 keeps a metadata server busy
    /// without queueing hundreds of requests inside it (see BENCHMARKS.md: 64 beat 128 on a 32-worker server).
    /// </summary>
    public int MaxConnectionsPerOrigin { get; set; } = 64;

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

    /// <summary>Tokens leased per claim.</summary>
    public int ClaimBatchSize { get; set; } = 512;

    /// <summary>How long a claim holds before another instance may take the token (a crashed worker's tokens come back after this).</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Idle poll when no work is queued (new refreshes on this instance wake the worker at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Deadline of the eth_call reading baseURI()/uri(id) when a refresh starts.</summary>
    public TimeSpan RpcTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws with the setting to fix when a value cannot work.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new InvalidOperationException(message);
            }
        }
        Require(TimestampToleranceSeconds > 0, "Refresh:TimestampToleranceSeconds must be > 0 (default 300).");
        Require(MaxConcurrency is > 0 and <= 4096, "Refresh:MaxConcurrency must be 1..4096 (default 256).");
        Require(MaxConnectionsPerOrigin is > 0 and <= 1024, "Refresh:MaxConnectionsPerOrigin must be 1..1024 (default 64).");
        Require(AttemptTimeout > TimeSpan.Zero, "Refresh:AttemptTimeout must be positive (default 00:00:03).");
        Require(MaxRetries is >= 0 and <= 10, "Refresh:MaxRetries must be 0..10 (default 2).");
        Require(MaxBodyBytes > 0, "Refresh:MaxBodyBytes must be > 0 (default 1048576).");
        Require(StoredBodyBytes is >= 0 and <= 65536, "Refresh:StoredBodyBytes must be 0..65536 (default 2048).");
        Require(ClaimBatchSize > 0, "Refresh:ClaimBatchSize must be > 0 (default 512).");
        Require(ClaimLease > AttemptTimeout * (MaxRetries + 1) + RetryAfterCap * MaxRetries,
            "Refresh:ClaimLease must outlast every attempt and retry of one token (default 00:02:00).");
        Require(PollInterval > TimeSpan.Zero, "Refresh:PollInterval must be positive (default 00:00:00.5).");
        foreach (var e in AllowedEndpoints)
        {
            Require(System.Net.IPEndPoint.TryParse(e, out var ep) && ep.Port > 0, $"Refresh:AllowedEndpoints entry '{e}' must be ip:port, e.g. 10.0.0.5:8080.");
        }
    }
}
