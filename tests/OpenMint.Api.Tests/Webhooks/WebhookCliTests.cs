using System.Text.Json.Nodes;
using OpenMint.Api.Tests.Minting;
using OpenMint.Core.Webhooks;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Webhooks;

/// <summary><c>openmint webhook ...</c> in-process with --json, and a worker delivering to what the CLI added.</summary>
public sealed class WebhookCliTests
{
    private static async Task<JsonNode> OkAsync(string database, params string[] args)
    {
        var (code, output, error) = await CliTests.RunAsync([.. args, "--database", database, "--json"]);
        Assert.True(code == 0, $"openmint {string.Join(' ', args)} exited {code}: {output} {error}");
        return JsonNode.Parse(output)!;
    }

    [Fact]
    public async Task an_operator_adds_lists_rotates_disables_redrives_and_removes_an_endpoint()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var owned = bed;
        var db = bed.DatabaseValue;
        var added = await OkAsync(db, "webhook", "add", "--project", bed.Project.Id, "--url", "https://studio.example/hook", "--events", WebhookEvents.MintRequestUpdated);
        Assert.Equal(["id", "project_id", "url", "events", "secret", "enabled"], added.AsObject().Select(p => p.Key).ToArray());
        var id = (string)added["id"]!;
        Assert.Equal(bed.Project.Id, (string?)added["project_id"]);
        Assert.Equal([WebhookEvents.MintRequestUpdated], added["events"]!.AsArray().Select(n => (string)n!).ToArray());
        var secret = (string)added["secret"]!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.True((bool)added["enabled"]!);

        var list = (await OkAsync(db, "webhook", "list", "--project", bed.Project.Id)).AsArray();
        Assert.Equal(id, (string?)Assert.Single(list)!["id"]);
        Assert.Null(list[0]!["secret"]); // shown once, at add and rotate

        var rotated = await OkAsync(db, "webhook", "rotate-secret", "--id", id);
        Assert.NotEqual(secret, (string?)rotated["secret"]);
        Assert.Equal(secret, (await bed.Store.Webhooks.GetEndpointAsync(id, CancellationToken.None))!.PreviousSecret);

        Assert.False((bool)(await OkAsync(db, "webhook", "disable", "--id", id))["enabled"]!);
        Assert.True((bool)(await OkAsync(db, "webhook", "enable", "--id", id))["enabled"]!);
        Assert.Empty((await OkAsync(db, "webhook", "deliveries", "--id", id, "--status", "failed", "--limit", "5")).AsArray());
        Assert.Equal(0, (int)(await OkAsync(db, "webhook", "redrive", "--id", id, "--since", "2026-01-01T00:00:00Z"))["requeued"]!);
        Assert.True((bool)(await OkAsync(db, "webhook", "remove", "--id", id))["removed"]!);
        Assert.Empty((await OkAsync(db, "webhook", "list")).AsArray());

        var (code, output, _) = await CliTests.RunAsync("webhook", "add", "--project", bed.Project.Id, "--url", "ftp://x", "--database", db, "--json");
        Assert.Equal(1, code);
        Assert.Contains("http(s) URL", (string)JsonNode.Parse(output)!["error"]!, StringComparison.Ordinal);
        (code, output, _) = await CliTests.RunAsync("webhook", "add", "--project", bed.Project.Id, "--url", "https://x.example", "--events", "nope", "--database", db, "--json");
        Assert.Equal(1, code);
        Assert.Contains("unknown event", (string)JsonNode.Parse(output)!["error"]!, StringComparison.Ordinal);
        (code, _, _) = await CliTests.RunAsync("webhook", "remove", "--id", "nope", "--database", db, "--json");
        Assert.Equal(1, code);
    }

    [Fact]
    public async Task a_running_worker_picks_up_an_endpoint_the_cli_added_and_its_failures_show_in_deliveries()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = (_, _) => Task.FromResult(422);
        await bed.StartWorkerAsync();
        var added = await OkAsync(bed.DatabaseValue, "webhook", "add", "--project", bed.Project.Id, "--url", receiver.Url);
        receiver.Secrets.Enqueue((string)added["secret"]!);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        await bed.MintAsync(2);
        var failed = await Eventually.ValueAsync(() => OkAsync(bed.DatabaseValue, "webhook", "deliveries", "--id", (string)added["id"]!, "--status", "failed"),
            j => j.AsArray().Count == 2, "two failed deliveries listed", TimeSpan.FromSeconds(30));
        Assert.All(failed.AsArray(), d => Assert.Equal(422, (int)d!["last_status_code"]!));
        Assert.All(receiver.Received, r => Assert.True(r.Verified));

        receiver.Answer = (_, _) => Task.FromResult(200);
        Assert.Equal(2, (int)(await OkAsync(bed.DatabaseValue, "webhook", "redrive", "--id", (string)added["id"]!))["requeued"]!);
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount == 2), "both delivered after the redrive", TimeSpan.FromSeconds(30));
    }
}
