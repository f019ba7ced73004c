using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using OpenMint.Core.Webhooks;
using OpenMint.TestSupport;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace OpenMint.Api.Tests.Webhooks;

/// <summary>Deliveries to a real receiver on 127.0.0.1 that verifies every signature with the StandardWebhooks library.</summary>
public sealed class WebhookDeliveryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static async Task<(WebhookTestBed Bed, WebhookReceiver Receiver, WebhookEndpoint Endpoint)> SetUpAsync(params string[] events)
    {
        var bed = await WebhookTestBed.CreateAsync();
        var receiver = await WebhookReceiver.StartAsync();
        var endpoint = await bed.AddEndpointAsync(receiver.Url, events);
        receiver.Secrets.Enqueue(endpoint.Secret);
        return (bed, receiver, endpoint);
    }

    [Fact]
    public async Task every_status_change_arrives_once_signed_with_the_event_as_body()
    {
        var (bed, receiver, endpoint) = await SetUpAsync();
        await using var _ = bed;
        await using var __ = receiver;
        await bed.StartWorkerAsync();
        var refs = await bed.MintAsync(20);
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount == 20), "20 deliveries", Wait);

        var events = (await bed.Store.Events.ReadMintEventsAsync(0, 1000, CancellationToken.None)).ToDictionary(e => e.EventId.ToString());
        foreach (var got in receiver.Received)
        {
            Assert.True(got.Verified, $"signature {got.Signature} of {got.Id} verifies with StandardWebhooks");
            Assert.Equal(events[got.Id].Payload, got.Body);
            var json = JsonNode.Parse(got.Body)!;
            Assert.Equal("imtbl_zkevm_mint_request_updated", (string?)json["event_name"]);
            Assert.Equal(got.Id, (string?)json["event_id"]);
            Assert.True(Math.Abs(long.Parse(got.Timestamp, System.Globalization.CultureInfo.InvariantCulture) - DateTimeOffset.UtcNow.ToUnixTimeSeconds()) < 60);
            Assert.Matches("^v1,[A-Za-z0-9+/=]{44}$", got.Signature);
        }
        Assert.Equal(refs.Order(), receiver.Received.Select(r => (string)JsonNode.Parse(r.Body)!["data"]!["reference_id"]!).Order());
        Assert.Equal(20, receiver.Received.Count);
        // The receiver has every body before the worker's recorder commits the outcomes (batched): wait for those.
        var deliveries = await Eventually.ValueAsync(() => bed.DeliveriesAsync(endpoint.Id),
            ds => ds.All(d => d.Status == WebhookDeliveryStatus.Delivered), "every delivery recorded as delivered", Wait);
        Assert.Equal(20, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal(1, d.Attempts));

        // A tampered body does not verify: the receiver's check can fail.
        var first = receiver.Received.First();
        var headers = new HeaderDictionary { ["webhook-id"] = first.Id, ["webhook-timestamp"] = first.Timestamp, ["webhook-signature"] = first.Signature };
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(endpoint.Secret).Verify(first.Body + " ", headers));
    }

    [Fact]
    public async Task an_endpoint_added_while_the_worker_ran_without_any_gets_exactly_the_events_committed_after_it()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        var receiver = await WebhookReceiver.StartAsync();
        await using var __ = receiver;
        await bed.StartWorkerAsync();
        await bed.MintAsync(10); // no endpoint: the worker writes nothing for them (SQLite), nobody gets them
        await Task.Delay(300);
        var endpoint = await bed.AddEndpointAsync(receiver.Url);
        receiver.Secrets.Enqueue(endpoint.Secret);
        var after = await bed.MintAsync(10);
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount >= 10), "10 deliveries", Wait);
        await Task.Delay(500); // nothing more arrives
        Assert.Equal(after.Order(), receiver.Received.Select(r => (string)JsonNode.Parse(r.Body)!["data"]!["reference_id"]!).Order());
        Assert.Equal(10, (await bed.DeliveriesAsync(endpoint.Id)).Count);
    }

    [Fact]
    public async Task a_500_is_retried_with_the_same_webhook_id_and_a_later_event_of_the_request_waits_for_it()
    {
        var (bed, receiver, endpoint) = await SetUpAsync();
        await using var _ = bed;
        await using var __ = receiver;
        receiver.Answer = (got, _) => Task.FromResult(got.Attempt <= 3 ? 500 : 200);
        var refs = await bed.MintAsync(1);
        var later = await bed.AppendStatusEventAsync(refs[0], "succeeded");
        await bed.StartWorkerAsync();
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount == 2), "both events delivered", Wait);

        var delivered = receiver.DeliveredSnapshot();
        Assert.Equal(later, delivered[1].Id);
        Assert.Equal(4, delivered[0].Attempt);
        var firstId = delivered[0].Id;
        var arrivals = receiver.Received.Select(r => r.Id).ToList();
        Assert.Equal(4, arrivals.Count(id => id == firstId));
        Assert.True(arrivals.LastIndexOf(firstId) < arrivals.IndexOf(later), "the later event of the request went out only after the earlier one was delivered");
        var rows = await bed.DeliveriesAsync(endpoint.Id);
        Assert.Equal(4, rows.Single(d => d.EventId == firstId).Attempts);
    }

    [Fact]
    public async Task a_410_fails_the_delivery_and_disables_the_endpoint()
    {
        var (bed, receiver, endpoint) = await SetUpAsync();
        await using var _ = bed;
        await using var __ = receiver;
        receiver.Answer = (_, _) => Task.FromResult(410);
        await bed.StartWorkerAsync();
        await bed.MintAsync(1);
        await Eventually.TrueAsync(async () => (await bed.Store.Webhooks.GetEndpointAsync(endpoint.Id, CancellationToken.None))!.Enabled == false, "the endpoint disabled", Wait);
        var failed = Assert.Single(await bed.DeliveriesAsync(endpoint.Id, WebhookDeliveryStatus.Failed));
        Assert.Equal(410, failed.LastStatusCode);
        Assert.Single(receiver.Received);

        await bed.MintAsync(1);
        await Task.Delay(500);
        Assert.Single(receiver.Received); // nothing is queued for or sent to a disabled endpoint
    }

    [Fact]
    public async Task a_redirect_is_not_followed_and_other_4xx_fail_at_once()
    {
        var (bed, receiver, endpoint) = await SetUpAsync();
        await using var _ = bed;
        await using var __ = receiver;
        receiver.Answer = (got, ctx) =>
        {
            var reference = (string)JsonNode.Parse(got.Body)!["data"]!["reference_id"]!;
            if (reference.StartsWith('r'))
            {
                ctx.Response.Headers.Location = receiver.Url + "?moved";
                return Task.FromResult(307);
            }
            return Task.FromResult(400);
        };
        await bed.StartWorkerAsync();
        await bed.Store.Minting.AcceptMintRequestsAsync(new Core.Minting.MintIntake(bed.Collection, bed.Chain,
            [new("r1", "0x00000000000000000000000000000000000000bb", null, null, null), new("b1", "0x00000000000000000000000000000000000000bb", null, null, null)], 10_000_000, 2), CancellationToken.None);
        var failed = await Eventually.ValueAsync(() => bed.DeliveriesAsync(endpoint.Id, WebhookDeliveryStatus.Failed), f => f.Count == 2, "two failed deliveries", Wait);
        Assert.Contains(failed, d => d.LastStatusCode == 307 && d.LastError!.Contains("redirects are not followed", StringComparison.Ordinal));
        Assert.Contains(failed, d => d.LastStatusCode == 400);
        Assert.All(failed, d => Assert.Equal(1, d.Attempts));
        Assert.Equal(2, receiver.Received.Count); // the redirect target was never asked
        Assert.True((await bed.Store.Webhooks.GetEndpointAsync(endpoint.Id, CancellationToken.None))!.Enabled);
    }

    [Fact]
    public async Task a_receiver_down_then_back_gets_everything_and_a_slow_or_reset_answer_is_retried()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        var port = FreePort();
        var endpoint = await bed.AddEndpointAsync($"http://127.0.0.1:{port}/hook");
        var options = WebhookTestBed.FastOptions();
        options.AttemptTimeout = TimeSpan.FromMilliseconds(400);
        await bed.StartWorkerAsync(options);
        await bed.MintAsync(30);
        await Eventually.TrueAsync(async () => (await bed.DeliveriesAsync(endpoint.Id)).Count(d => d.Attempts >= 2) == 30, "every delivery retried while the receiver is down", Wait);
        // Refused at once normally; on a starved machine the 400 ms attempt deadline can come first.
        Assert.All(await bed.DeliveriesAsync(endpoint.Id), d => Assert.Matches("^(connection error|no answer within)", d.LastError!));

        await using var receiver = await WebhookReceiver.StartAsync(port, endpoint.Secret);
        var firstAttempts = 0;
        receiver.Answer = async (got, _) =>
        {
            if (got.Attempt > 1)
            {
                return 200;
            }
            switch (Interlocked.Increment(ref firstAttempts) % 3)
            {
                case 0:
                    await Task.Delay(1200); // slower than the attempt timeout
                    return 200;
                case 1:
                    return WebhookReceiver.ResetConnection;
                default:
                    return 200;
            }
        };
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount == 30), "all 30 delivered once the receiver is back", Wait);
        Assert.All(receiver.Received, r => Assert.True(r.Verified));
        await Eventually.TrueAsync(async () => (await bed.DeliveriesAsync(endpoint.Id, WebhookDeliveryStatus.Delivered)).Count == 30, "30 delivered rows", Wait);
    }

    [Fact]
    public async Task past_the_retry_horizon_a_delivery_fails_and_later_events_still_go_out_and_redrive_requeues_it()
    {
        var (bed, receiver, endpoint) = await SetUpAsync();
        await using var _ = bed;
        await using var __ = receiver;
        var refs = await bed.MintAsync(1);
        var dead = receiver.Url;
        receiver.Answer = (got, _) => Task.FromResult((string)JsonNode.Parse(got.Body)!["data"]!["reference_id"]! == refs[0] ? 503 : 200);
        var options = WebhookTestBed.FastOptions();
        options.RetryHorizon = TimeSpan.FromSeconds(1);
        await bed.StartWorkerAsync(options);
        var failed = await Eventually.ValueAsync(() => bed.DeliveriesAsync(endpoint.Id, WebhookDeliveryStatus.Failed), f => f.Count == 1, "the delivery failed after its horizon", Wait);
        Assert.True(failed[0].Attempts >= 3, $"retried with backoff before failing ({failed[0].Attempts} attempts)");
        Assert.Equal(503, failed[0].LastStatusCode);
        var retryGaps = receiver.Received.Select(r => long.Parse(r.Timestamp, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(retryGaps.Count >= 3);

        await bed.MintAsync(3);
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount == 3), "later events delivered", Wait);

        receiver.Answer = (_, _) => Task.FromResult(200);
        Assert.Equal(1, await bed.Store.Webhooks.RedriveAsync(endpoint.Id, null, DateTimeOffset.UtcNow, CancellationToken.None));
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount == 4), "the redriven delivery delivered", Wait);
        Assert.Equal(dead, receiver.Url);
    }

    [Fact]
    public async Task a_loopback_url_is_refused_by_the_guard_unless_allowed()
    {
        var (bed, receiver, endpoint) = await SetUpAsync();
        await using var _ = bed;
        await using var __ = receiver;
        var options = WebhookTestBed.FastOptions();
        options.AllowLoopback = false;
        await bed.StartWorkerAsync(options);
        await bed.MintAsync(1);
        var failed = await Eventually.ValueAsync(() => bed.DeliveriesAsync(endpoint.Id, WebhookDeliveryStatus.Failed), f => f.Count == 1, "a refused delivery", Wait);
        Assert.Contains("Webhooks:AllowLoopback", failed[0].LastError!, StringComparison.Ordinal);
        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task after_a_rotation_both_secrets_sign_and_the_new_one_verifies_alone()
    {
        var (bed, receiver, endpoint) = await SetUpAsync();
        await using var _ = bed;
        await using var __ = receiver;
        await bed.StartWorkerAsync();
        await bed.MintAsync(5);
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount == 5), "5 before the rotation", Wait);
        var secret = WebhookSecrets.New();
        Assert.True(await bed.Store.Webhooks.RotateSecretAsync(endpoint.Id, secret, DateTimeOffset.UtcNow.AddHours(24), DateTimeOffset.UtcNow, CancellationToken.None));
        receiver.Secrets.Enqueue(secret);
        var rotated = (await bed.Store.Webhooks.GetEndpointAsync(endpoint.Id, CancellationToken.None))!;
        Assert.Equal((secret, endpoint.Secret), (rotated.Secret, rotated.PreviousSecret));
        Assert.Equal([secret, endpoint.Secret], rotated.SigningSecrets(DateTimeOffset.UtcNow));
        await Task.Delay(500); // the worker reloads endpoints every 200 ms here (2 s at most in production)
        await bed.MintAsync(5);
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount == 10), "5 after the rotation", Wait);
        var after = receiver.DeliveredSnapshot().Skip(5).ToList();
        Assert.All(after, r => Assert.Equal(2, r.Signature.Split(' ').Length));
        var now = DateTimeOffset.UtcNow;
        foreach (var r in after)
        {
            var at = DateTimeOffset.FromUnixTimeSeconds(long.Parse(r.Timestamp, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(WebhookSecrets.Signature([secret, endpoint.Secret], r.Id, at, r.Body), r.Signature);
        }
        Assert.All(after, r => Assert.Equal([true, true], r.VerifiedBySecret));
        Assert.All(receiver.DeliveredSnapshot().Take(5), r => Assert.Equal([true], r.VerifiedBySecret)); // one entry, the only secret then
    }

    [Fact]
    public async Task a_dead_endpoint_does_not_delay_a_fast_one()
    {
        var (bed, fast, endpoint) = await SetUpAsync();
        await using var _ = bed;
        await using var __ = fast;
        await using var slow = await WebhookReceiver.StartAsync();
        slow.Answer = async (_, ctx) =>
        {
            await Task.Delay(5000, ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return 500;
        };
        var slowEndpoint = await bed.AddEndpointAsync(slow.Url);
        var options = WebhookTestBed.FastOptions();
        options.AttemptTimeout = TimeSpan.FromSeconds(5);
        await bed.StartWorkerAsync(options);
        await bed.MintAsync(200);
        await Eventually.TrueAsync(() => Task.FromResult(fast.DeliveredCount == 200), "the fast endpoint got all 200", TimeSpan.FromSeconds(10));
        Assert.Equal(0, slow.DeliveredCount);
        Assert.True(slow.Received.Count <= 16, $"at most MaxConcurrencyPerEndpoint in flight to the slow one ({slow.Received.Count})");
        Assert.NotEqual(slowEndpoint.Id, endpoint.Id);
    }

    [Fact]
    public async Task an_endpoint_with_events_receives_only_those_names_and_an_added_one_is_picked_up_without_restart()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        await using var receiver = await WebhookReceiver.StartAsync();
        await bed.StartWorkerAsync();
        var refreshOnly = await bed.AddEndpointAsync(receiver.Url, WebhookEvents.RefreshCompleted);
        var all = await bed.AddEndpointAsync(receiver.Url);
        receiver.Secrets.Enqueue(all.Secret);
        await Task.Delay(500);
        await bed.MintAsync(3);
        await Eventually.TrueAsync(() => Task.FromResult(receiver.DeliveredCount == 3), "3 deliveries to the endpoint that wants mint events", Wait);
        Assert.Empty(await bed.DeliveriesAsync(refreshOnly.Id));
        Assert.Equal(3, (await bed.DeliveriesAsync(all.Id)).Count);
    }

    internal static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
