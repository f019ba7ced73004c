using System.Text.Json.Nodes;
using OpenMint.DevChain;

namespace OpenMint.Api.Tests.Webhooks;

/// <summary><c>openmint dev --webhook-url</c>: endpoints of the demo project, listed in dev.json as <c>webhooks: [{id, url, secret}]</c>.</summary>
public sealed class DevWebhookTests
{
    [Fact]
    public async Task dev_registers_each_webhook_url_for_the_demo_project_and_writes_it_to_dev_json()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        var stateDir = Path.Combine(Path.GetTempPath(), $"openmint-devhooks-{Guid.NewGuid():N}");
        Directory.CreateDirectory(stateDir);
        var info = new DevInfo("http://127.0.0.1:5080", "http://127.0.0.1:8545", "anvil", 31337, bed.DatabaseValue, bed.Project.Id, "key", "0x1", "0x2", "0x3",
            new Dictionary<string, string>(), "other");
        info = await DevBootstrap.AddWebhooksAsync(bed.Store.Webhooks, bed.Store.Tenancy, info, ["http://127.0.0.1:9999/a", "http://127.0.0.1:9999/b"], TimeProvider.System, CancellationToken.None);
        var path = DevBootstrap.WriteDevJson(info, stateDir);

        var hooks = JsonNode.Parse(await File.ReadAllTextAsync(path))!["webhooks"]!.AsArray();
        Assert.Equal(2, hooks.Count);
        Assert.All(hooks, h => Assert.Equal(["id", "url", "secret"], h!.AsObject().Select(p => p.Key).ToArray()));
        Assert.Equal(["http://127.0.0.1:9999/a", "http://127.0.0.1:9999/b"], hooks.Select(h => (string)h!["url"]!).ToArray());
        foreach (var h in hooks)
        {
            var stored = (await bed.Store.Webhooks.GetEndpointAsync((string)h!["id"]!, CancellationToken.None))!;
            Assert.Equal((bed.Project.Id, (string)h["secret"]!, true), (stored.ProjectId, stored.Secret, stored.Enabled));
        }
        Assert.Equal(2, DevBootstrap.ReadDevJson(path).Webhooks!.Count);
        await Assert.ThrowsAsync<ArgumentException>(() => DevBootstrap.AddWebhooksAsync(bed.Store.Webhooks, bed.Store.Tenancy, info, ["not a url"], TimeProvider.System, CancellationToken.None));
        Directory.Delete(stateDir, true);
    }
}
