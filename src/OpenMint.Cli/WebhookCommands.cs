using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using OpenMint.Core.Webhooks;
using OpenMint.Storage;

namespace OpenMint.Cli;

/// <summary><c>openmint webhook ...</c>: endpoints, their secrets and their deliveries (a running serve picks changes up within 2 s).</summary>
internal static class WebhookCommands
{
    public static Command Webhook()
    {
        var command = new Command("webhook", "Webhook endpoints: signed status updates pushed to a studio's backend");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Remove());
        command.Subcommands.Add(Rotate());
        command.Subcommands.Add(SetEnabled("enable", true));
        command.Subcommands.Add(SetEnabled("disable", false));
        command.Subcommands.Add(Deliveries());
        command.Subcommands.Add(Redrive());
        return command;
    }

    private static Option<string> IdOption() => new("--id") { Description = "Endpoint id", Required = true };

    private static Command Add()
    {
        var project = new Option<string>("--project") { Description = "Project id whose events the endpoint receives", Required = true };
        var url = new Option<string>("--url") { Description = "http(s) URL that receives POSTs", Required = true };
        var events = new Option<string?>("--events") { Description = $"Comma-separated event names (default: all of {string.Join(", ", WebhookEvents.All)})" };
        var add = new Command("add", "Add an endpoint; prints its secret (shown once)") { project, url, events };
        return add.WithStorage(async (parse, store, ct) =>
        {
            var names = (parse.GetValue(events) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var result = await WebhookRegistration.AddAsync(store.Webhooks, store.Tenancy, parse.GetValue(project)!, parse.GetValue(url)!, names, TimeProvider.System, ct).ConfigureAwait(false);
            var endpoint = result.Endpoint ?? throw new CliException(result.Error!);
            return new CliResult(EndpointJson(endpoint, withSecret: true),
                $"endpoint {endpoint.Id} -> {endpoint.Url} ({Events(endpoint)})\nsecret (shown once): {endpoint.Secret}");
        });
    }

    private static Command List()
    {
        var project = new Option<string?>("--project") { Description = "Only this project's endpoints" };
        var list = new Command("list", "List endpoints") { project };
        return list.WithStorage(async (parse, store, ct) =>
        {
            var endpoints = await store.Webhooks.ListEndpointsAsync(parse.GetValue(project), ct).ConfigureAwait(false);
            return new CliResult(new JsonArray(endpoints.Select(e => (JsonNode)EndpointJson(e, withSecret: false)).ToArray()),
                endpoints.Count == 0 ? "no webhook endpoints" : string.Join('\n', endpoints.Select(e =>
                    $"{e.Id}  {e.ProjectId}  {e.Url}  {Events(e)}  {(e.Enabled ? "enabled" : "disabled" + (e.DisabledReason is null ? "" : $" ({e.DisabledReason})"))}")));
        });
    }

    private static Command Remove()
    {
        var id = IdOption();
        return new Command("remove", "Remove an endpoint and its deliveries") { id }.WithStorage(async (parse, store, ct) =>
        {
            var removed = await store.Webhooks.RemoveEndpointAsync(parse.GetValue(id)!, ct).ConfigureAwait(false);
            return removed ? new CliResult(new JsonObject { ["id"] = parse.GetValue(id), ["removed"] = true }, $"endpoint {parse.GetValue(id)} removed") : throw NoEndpoint(parse.GetValue(id)!);
        });
    }

    private static Command Rotate()
    {
        var id = IdOption();
        return new Command("rotate-secret", "New secret (shown once); the old one keeps signing beside it for 24 h") { id }.WithStorage(async (parse, store, ct) =>
        {
            var now = DateTimeOffset.UtcNow;
            var secret = WebhookSecrets.New();
            if (!await store.Webhooks.RotateSecretAsync(parse.GetValue(id)!, secret, now.AddHours(24), now, ct).ConfigureAwait(false))
            {
                throw NoEndpoint(parse.GetValue(id)!);
            }
            var endpoint = (await store.Webhooks.GetEndpointAsync(parse.GetValue(id)!, ct).ConfigureAwait(false))!;
            return new CliResult(EndpointJson(endpoint, withSecret: true),
                $"endpoint {endpoint.Id}: new secret (shown once): {secret}\nthe previous secret also signs until {Core.Time.ToWire(now.AddHours(24))}");
        });
    }

    private static Command SetEnabled(string name, bool enabled)
    {
        var id = IdOption();
        return new Command(name, enabled ? "Resume deliveries to an endpoint" : "Stop deliveries to an endpoint (new events are not queued for it)") { id }
            .WithStorage(async (parse, store, ct) =>
            {
                if (!await store.Webhooks.SetEnabledAsync(parse.GetValue(id)!, enabled, "disabled by the operator", DateTimeOffset.UtcNow, ct).ConfigureAwait(false))
                {
                    throw NoEndpoint(parse.GetValue(id)!);
                }
                var endpoint = (await store.Webhooks.GetEndpointAsync(parse.GetValue(id)!, ct).ConfigureAwait(false))!;
                return new CliResult(EndpointJson(endpoint, withSecret: false), $"endpoint {endpoint.Id} {(enabled ? "enabled" : "disabled")}");
            });
    }

    private static Command Deliveries()
    {
        var id = new Option<string>("--id") { Description = "Endpoint id", Required = true };
        var status = new Option<string?>("--status") { Description = "pending, delivered or failed" };
        var limit = new Option<int>("--limit") { Description = "At most this many, newest first", DefaultValueFactory = _ => 50 };
        return new Command("deliveries", "An endpoint's deliveries, newest first") { id, status, limit }.WithStorage(async (parse, store, ct) =>
        {
            WebhookDeliveryStatus? filter = parse.GetValue(status) switch
            {
                null => null,
                "pending" => WebhookDeliveryStatus.Pending,
                "delivered" => WebhookDeliveryStatus.Delivered,
                "failed" => WebhookDeliveryStatus.Failed,
                var other => throw new CliException($"--status '{other}' is not one of pending, delivered, failed"),
            };
            if (parse.GetValue(limit) is < 1 or > 10_000)
            {
                throw new CliException("--limit must be 1..10000, e.g. 50");
            }
            _ = await store.Webhooks.GetEndpointAsync(parse.GetValue(id)!, ct).ConfigureAwait(false) ?? throw NoEndpoint(parse.GetValue(id)!);
            var rows = await store.Webhooks.ListDeliveriesAsync(parse.GetValue(id)!, filter, parse.GetValue(limit), ct).ConfigureAwait(false);
            return new CliResult(new JsonArray(rows.Select(d => (JsonNode)DeliveryJson(d)).ToArray()),
                rows.Count == 0 ? "no deliveries" : string.Join('\n', rows.Select(d =>
                    $"{d.EventId}  {WebhookDeliveryStatusName(d.Status)}  attempts {d.Attempts}  {d.LastStatusCode?.ToString(CultureInfo.InvariantCulture) ?? "-"}  {d.LastError ?? ""}")));
        });
    }

    private static Command Redrive()
    {
        var id = IdOption();
        var since = new Option<string?>("--since") { Description = "Only deliveries queued at or after this RFC 3339 instant" };
        return new Command("redrive", "Re-queue an endpoint's failed deliveries") { id, since }.WithStorage(async (parse, store, ct) =>
        {
            DateTimeOffset? from = null;
            if (parse.GetValue(since) is { } s)
            {
                from = DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                    ? t : throw new CliException($"--since '{s}' is not an RFC 3339 instant, e.g. 2026-01-31T12:00:00Z");
            }
            _ = await store.Webhooks.GetEndpointAsync(parse.GetValue(id)!, ct).ConfigureAwait(false) ?? throw NoEndpoint(parse.GetValue(id)!);
            var n = await store.Webhooks.RedriveAsync(parse.GetValue(id)!, from, DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
            return new CliResult(new JsonObject { ["id"] = parse.GetValue(id), ["requeued"] = n }, $"{n} failed deliveries re-queued");
        });
    }

    private static CliException NoEndpoint(string id) => new($"no webhook endpoint '{id}' (openmint webhook list)");

    private static string Events(WebhookEndpoint e) => e.Events.Count == 0 ? "all events" : string.Join(",", e.Events);

    private static string WebhookDeliveryStatusName(WebhookDeliveryStatus s) => s.ToString().ToLowerInvariant();

    private static JsonObject EndpointJson(WebhookEndpoint e, bool withSecret)
    {
        var json = new JsonObject
        {
            ["id"] = e.Id,
            ["project_id"] = e.ProjectId,
            ["url"] = e.Url,
            ["events"] = new JsonArray((e.Events.Count == 0 ? WebhookEvents.All : e.Events).Select(n => (JsonNode)n!).ToArray()),
        };
        if (withSecret)
        {
            json["secret"] = e.Secret;
        }
        json["enabled"] = e.Enabled;
        if (!e.Enabled)
        {
            json["disabled_reason"] = e.DisabledReason;
        }
        return json;
    }

    private static JsonObject DeliveryJson(WebhookDelivery d) => new()
    {
        ["event_id"] = d.EventId,
        ["event_name"] = d.EventName,
        ["status"] = WebhookDeliveryStatusName(d.Status),
        ["attempts"] = d.Attempts,
        ["last_status_code"] = d.LastStatusCode,
        ["last_error"] = d.LastError,
        ["queued_at"] = Core.Time.ToWire(d.QueuedAt),
        ["next_attempt_at"] = d.Status == WebhookDeliveryStatus.Pending ? Core.Time.ToWire(d.NextAttemptAt) : null,
        ["delivered_at"] = d.DeliveredAt is { } t ? Core.Time.ToWire(t) : null,
    };

    /// <summary>Like <see cref="Cli.WithStore"/>, with every area of the store (the webhook area and tenancy).</summary>
    private static Command WithStorage(this Command command, Func<ParseResult, OpenMintStorage, CancellationToken, Task<CliResult>> run)
    {
        // WithStore hands over the tenancy area only; the webhook commands open the whole store beside it.
        return command.WithStore(async (parse, _, ct) =>
        {
            var storage = await OpenMintStorage.OpenAsync(parse.GetValue(Commands.Database)!, ct).ConfigureAwait(false);
            try
            {
                return await run(parse, storage, ct).ConfigureAwait(false);
            }
            finally
            {
                await storage.DisposeAsync().ConfigureAwait(false);
            }
        });
    }
}
