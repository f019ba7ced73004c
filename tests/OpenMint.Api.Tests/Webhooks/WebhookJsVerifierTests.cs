using System.Diagnostics;
using System.Text.Json.Nodes;
using OpenMint.Core.Webhooks;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Webhooks;

/// <summary>Deliveries verified by the <c>standardwebhooks</c> npm package (tests/js/webhook-receiver.mjs), before and after a rotation.</summary>
public sealed class WebhookJsVerifierTests
{
    private static readonly string JsDir = Path.Combine(TestEnvironment.RepoRoot, "tests", "js");

    [Fact]
    public async Task the_npm_standardwebhooks_verifier_accepts_every_delivery_under_both_secrets_after_a_rotation()
    {
        Assert.True(Directory.Exists(Path.Combine(JsDir, "node_modules", "standardwebhooks")), "tests/js/node_modules/standardwebhooks is missing: run ./test (or npm ci in tests/js)");
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        var port = WebhookDeliveryTests.FreePort();
        var endpoint = await bed.AddEndpointAsync($"http://127.0.0.1:{port}/hook");
        var secret = WebhookSecrets.New();
        Assert.True(await bed.Store.Webhooks.RotateSecretAsync(endpoint.Id, secret, DateTimeOffset.UtcNow.AddHours(24), DateTimeOffset.UtcNow, CancellationToken.None));

        var psi = new ProcessStartInfo("node") { WorkingDirectory = JsDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(JsDir, "webhook-receiver.mjs"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), "5", endpoint.Secret, secret })
        {
            psi.ArgumentList.Add(a);
        }
        using var node = Process.Start(psi)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        try
        {
            await bed.StartWorkerAsync();
            await bed.MintAsync(5);
            await node.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token);
        }
        finally
        {
            if (!node.HasExited)
            {
                node.Kill(entireProcessTree: true);
            }
        }
        Assert.True(node.ExitCode == 0, $"webhook-receiver.mjs exited {node.ExitCode}: {await stdout} {await stderr}");
        var result = JsonNode.Parse(await stdout)!;
        Assert.Equal(5, (int)result["verified"]!);
        Assert.Equal([2], result["signature_entries"]!.AsArray().Select(n => (int)n!).ToArray());
        Assert.Equal([WebhookEvents.MintRequestUpdated], result["events"]!.AsArray().Select(n => (string)n!).ToArray());
    }
}
