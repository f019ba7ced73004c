using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Webhooks;

/// <summary>The outcome of adding an endpoint: the endpoint (with its secret, shown once) or what to fix.</summary>
public sealed record WebhookRegistrationResult(WebhookEndpoint? Endpoint, string? Error);

/// <summary>Adds webhook endpoints (the CLI and <c>openmint dev</c>).</summary>
public static class WebhookRegistration
{
    /// <summary>Checks the project, URL and event names, then stores an enabled endpoint with a fresh secret.</summary>
    public static async Task<WebhookRegistrationResult> AddAsync(
        IWebhookStore store, ITenancyStore tenancy, string projectId, string url, IReadOnlyList<string> events, TimeProvider time, CancellationToken ct)
    {
        if (await tenancy.GetProjectAsync(projectId, ct).ConfigureAwait(false) is null)
        {
            return new(null, $"no project '{projectId}' (openmint project list)");
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.UserInfo.Length > 0)
        {
            return new(null, $"--url '{url}' is not an http(s) URL without credentials, e.g. https://studio.example/webhooks/openmint");
        }
        var unknown = events.Where(e => !WebhookEvents.All.Contains(e, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            return new(null, $"unknown event name(s) {string.Join(", ", unknown)}: use {string.Join(", ", WebhookEvents.All)}");
        }
        var endpoint = new WebhookEndpoint(UuidV7.New(time).ToString(), projectId, url, events.Distinct(StringComparer.Ordinal).ToList(), WebhookSecrets.New(),
            null, null, true, null, time.GetUtcNow());
        await store.AddEndpointAsync(endpoint, ct).ConfigureAwait(false);
        return new(endpoint, null);
    }
}
