using OpenMint.Api.Tests.Pipeline;
using OpenMint.Core.Webhooks;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Webhooks;

/// <summary>The heavier bad conditions: a real <c>openmint serve</c> killed mid-delivery, a deep backlog on one endpoint, one failing throughout.</summary>
public sealed class WebhookBadConditionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task a_serve_process_killed_mid_delivery_delivers_every_event_at_least_once_after_restart()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        await using var receiver = await WebhookReceiver.StartAsync();
        var endpoint = await bed.AddEndpointAsync(receiver.Url);
        receiver.Secrets.Enqueue(endpoint.Secret);
        receiver.Answer = async (_, ctx) =>
        {
            await Task.Delay(200, ctx.RequestAborted); // slow enough that deliveries are in flight when the process dies
            return 200;
        };
        await bed.MintAsync(300);
        var settings = new Dictionary<string, string>
        {
            ["Webhooks:AllowLoopback"] = "true",
            ["Webhooks:PollInterval"] = "00:00:00.050",
            ["Webhooks:AttemptTimeout"] = "00:00:01", // a lease of 3 s: what the killed process held is sent again soon after
        };

        using (var killed = ServeProcess.Start(bed.DatabaseValue, null, settings))
        {
            await Eventually.TrueAsync(() => Task.FromResult(receiver.Received.Count >= 40), "deliveries under way", Wait);
            killed.Signal("KILL");
            Assert.True(await killed.WaitExitAsync(TimeSpan.FromSeconds(30)));
        }
        var beforeRestart = receiver.DeliveredCount;
        Assert.InRange(beforeRestart, 1, 299); // killed mid-way, not before or after

        using var restarted = ServeProcess.Start(bed.DatabaseValue, null, settings);
        // Every event of the log (the pipeline may add more while this runs) reaches the receiver with a 2xx.
        await Eventually.TrueAsync(async () =>
        {
            var logged = (await bed.Store.Events.ReadMintEventsAsync(0, 100_000, CancellationToken.None)).Select(e => e.EventId.ToString()).ToHashSet();
            var delivered = receiver.DeliveredSnapshot().Select(r => r.Id).ToHashSet();
            return logged.Count >= 300 && logged.IsSubsetOf(delivered);
        }, "every logged event delivered after the restart", Wait);
        Assert.All(receiver.Received, r => Assert.True(r.Verified));
    }

    [Fact]
    public async Task ten_thousand_events_backlogged_on_a_slow_endpoint_do_not_hold_up_a_fast_one()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        await using var fast = await WebhookReceiver.StartAsync();
        await using var slow = await WebhookReceiver.StartAsync();
        slow.Answer = async (got, ctx) =>
        {
            await Task.Delay(1_000, ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return got.Attempt % 2 == 1 ? 500 : 200; // slow, and failing every first attempt
        };
        var fastEndpoint = await bed.AddEndpointAsync(fast.Url);
        var slowEndpoint = await bed.AddEndpointAsync(slow.Url);
        fast.Secrets.Enqueue(fastEndpoint.Secret);
        var options = WebhookTestBed.FastOptions();
        options.AttemptTimeout = TimeSpan.FromSeconds(5);
        await bed.StartWorkerAsync(options);

        await bed.MintAsync(10_000);

        await Eventually.TrueAsync(() => Task.FromResult(fast.DeliveredCount == 10_000), "the fast endpoint receives all 10,000", Wait);
        var backlog = await bed.DeliveriesAsync(slowEndpoint.Id, WebhookDeliveryStatus.Pending);
        Assert.True(backlog.Count > 5_000, $"the slow endpoint still has its backlog ({backlog.Count} pending)");
        Assert.Equal(10_000, fast.DeliveredSnapshot().Select(r => r.Id).Distinct().Count());
        Assert.All(fast.DeliveredSnapshot().Take(100), r => Assert.True(r.Verified));
    }

    [Fact]
    public async Task an_endpoint_answering_500_to_everything_is_attempted_at_a_bounded_pace_beside_a_fast_one_and_drains_once_it_answers()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        await using var fast = await WebhookReceiver.StartAsync();
        await using var failing = await WebhookReceiver.StartAsync();
        var healthy = false;
        failing.Answer = (_, _) => Task.FromResult(Volatile.Read(ref healthy) ? 200 : 500);
        var fastEndpoint = await bed.AddEndpointAsync(fast.Url);
        await bed.AddEndpointAsync(failing.Url);
        fast.Secrets.Enqueue(fastEndpoint.Secret);
        var options = WebhookTestBed.FastOptions();
        options.FirstRetryDelay = TimeSpan.FromSeconds(1);
        options.MaxRetryDelay = TimeSpan.FromSeconds(2);
        options.MaxConcurrencyPerEndpoint = 2; // a failing lane leases at most 4 x 2 = 8 per second
        await bed.StartWorkerAsync(options);

        await bed.MintAsync(300);
        await Eventually.TrueAsync(() => Task.FromResult(fast.DeliveredCount == 300), "the fast endpoint receives all 300", Wait);
        await Eventually.TrueAsync(() => Task.FromResult(failing.Received.Count >= 20), "the failing endpoint failed often enough to count as failing", Wait);
        var before = failing.Received.Count;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var attempts = failing.Received.Count - before;
        // Sent as fast as it answers, 300 due deliveries would take hundreds of attempts in 3 s; in backoff at most 8 a second.
        Assert.True(attempts <= 8 * 5, $"{attempts} attempts in 3 s to an endpoint answering 500 to everything");

        Volatile.Write(ref healthy, true);
        await Eventually.TrueAsync(() => Task.FromResult(failing.DeliveredCount == 300), "all 300 delivered once the endpoint answers", Wait);
    }

    [Fact]
    public async Task a_rotation_during_traffic_loses_nothing_and_every_two_signature_delivery_verifies_under_both_secrets()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        await using var receiver = await WebhookReceiver.StartAsync();
        var endpoint = await bed.AddEndpointAsync(receiver.Url);
        receiver.Secrets.Enqueue(endpoint.Secret);
        await bed.StartWorkerAsync();
        var secret = WebhookSecrets.New();
        receiver.Secrets.Enqueue(secret);

        var traffic = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                await bed.MintAsync(20);
                await Task.Delay(50);
            }
        });
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount >= 60), "traffic under way", Wait);
        Assert.True(await bed.Store.Webhooks.RotateSecretAsync(endpoint.Id, secret, DateTimeOffset.UtcNow.AddHours(24), DateTimeOffset.UtcNow, CancellationToken.None));
        await traffic;

        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount == 400), "all 400 delivered", Wait);
        var delivered = receiver.DeliveredSnapshot();
        Assert.All(delivered, r => Assert.True(r.Verified));
        var twoSigned = delivered.Where(r => r.Signature.Split(' ').Length == 2).ToList();
        Assert.NotEmpty(twoSigned); // deliveries after the rotation carry both entries
        Assert.All(twoSigned, r => Assert.Equal([true, true], r.VerifiedBySecret)); // each entry checked alone with the library
    }
}
