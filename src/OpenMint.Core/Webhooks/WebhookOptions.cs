using OpenMint.Core.Net;

namespace OpenMint.Core.Webhooks;

/// <summary>Settings of webhook delivery (section <c>Webhooks</c>; environment <c>Webhooks__AllowLoopback=true</c>, ...).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Let webhook URLs reach private, link-local and this machine's addresses (the SSRF guard is on by default).</summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>Let webhook URLs reach loopback (<c>./openmint dev</c> turns it on).</summary>
    public bool AllowLoopback { get; set; }

    /// <summary><c>ip:port</c> entries reachable even when their address class is refused.</summary>
    public List<string> AllowedEndpoints { get; set; } = [];

    /// <summary>Deliveries in flight per endpoint (events of different mint requests go out concurrently).</summary>
    public int MaxConcurrencyPerEndpoint { get; set; } = 16;

    /// <summary>Deadline of one attempt (connect, send, answer).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Delay before the first retry; it doubles on each further retry (with jitter).</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between attempts; also the cap on an honoured <c>Retry-After</c>.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a delivery is retried after it was queued before it is <c>failed</c>.</summary>
    public TimeSpan RetryHorizon { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the worker looks for new events and due deliveries when idle.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the worker reloads the endpoints (added, removed, rotated, disabled ones take effect within this).</summary>
    public TimeSpan EndpointRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How old the previous secret may be after a rotation before it stops signing.</summary>
    public TimeSpan PreviousSecretLifetime { get; set; } = TimeSpan.FromHours(24);

    public AddressPolicy AddressPolicy() =>
        new(AllowLoopback, AllowPrivateAddresses, Net.AddressPolicy.ParseEndpoints(AllowedEndpoints, "Webhooks:AllowedEndpoints"), "Webhooks");

    /// <summary>The lease a sending instance holds on a delivery: every attempt ends well within it.</summary>
    public TimeSpan Lease => AttemptTimeout * 3;

    /// <summary>Every problem with these values, each naming the setting to fix and an example value; empty when they can work.</summary>
    public IEnumerable<string> Validate()
    {
        if (MaxConcurrencyPerEndpoint is <= 0 or > 1024) yield return "Webhooks:MaxConcurrencyPerEndpoint must be 1..1024, e.g. 16 (the default)";
        if (AttemptTimeout <= TimeSpan.Zero) yield return "Webhooks:AttemptTimeout must be positive, e.g. 00:00:10 (the default)";
        if (FirstRetryDelay <= TimeSpan.Zero) yield return "Webhooks:FirstRetryDelay must be positive, e.g. 00:00:01 (the default)";
        if (MaxRetryDelay < FirstRetryDelay) yield return "Webhooks:MaxRetryDelay must be at least Webhooks:FirstRetryDelay, e.g. 01:00:00 (the default)";
        if (RetryHorizon <= TimeSpan.Zero) yield return "Webhooks:RetryHorizon must be positive, e.g. 1.00:00:00 (the default)";
        if (PollInterval <= TimeSpan.Zero) yield return "Webhooks:PollInterval must be positive, e.g. 00:00:00.1 (the default)";
        if (EndpointRefreshInterval <= TimeSpan.Zero || EndpointRefreshInterval > TimeSpan.FromSeconds(2))
        {
            yield return "Webhooks:EndpointRefreshInterval must be positive and at most 2 s, e.g. 00:00:01 (the default)";
        }
        foreach (var e in AllowedEndpoints)
        {
            if (!System.Net.IPEndPoint.TryParse(e, out var ep) || ep.Port == 0)
            {
                yield return $"Webhooks:AllowedEndpoints entry '{e}' must be ip:port, e.g. 10.0.0.5:8080";
            }
        }
    }
}
