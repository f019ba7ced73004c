using OpenMint.Core.Webhooks;
using OpenMint.Storage;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Webhooks;

/// <summary>Several instances on one PostgreSQL database, and an instance that dies mid-delivery.</summary>
public sealed class WebhookInstancesTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task two_instances_on_postgresql_deliver_each_event_once()
    {
        var bed = await WebhookTestBed.CreateAsync(postgres.ConnectionString);
        await using var _ = bed;
        await using var second = await OpenMintStorage.OpenAsync(postgres.ConnectionString, CancellationToken.None);
        await using var receiver = await WebhookReceiver.StartAsync();
        var endpoint = await bed.AddEndpointAsync(receiver.Url);
        receiver.Secrets.Enqueue(endpoint.Secret);
        await bed.StartWorkerAsync();
        await bed.StartWorkerAsync(store: second);
        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(() => bed.MintAsync(75))).ToList();
        await Task.WhenAll(writers);
        await Eventually.TrueAsync(async () => (await bed.DeliveriesAsync(endpoint.Id, WebhookDeliveryStatus.Delivered)).Count == 300, "300 delivered", Wait);
        await Task.Delay(300);
        Assert.Equal(300, receiver.Received.Count); // no event sent twice
        Assert.Equal(300, receiver.Received.Select(r => r.Id).Distinct().Count());
        Assert.All(receiver.Received, r => Assert.True(r.Verified));
    }

    [Fact]
    public async Task a_delivery_in_flight_when_its_instance_stops_is_handed_back_and_sent_again_with_the_same_webhook_id()
    {
        var bed = await WebhookTestBed.CreateAsync();
        await using var _ = bed;
        await using var receiver = await WebhookReceiver.StartAsync();
        var endpoint = await bed.AddEndpointAsync(receiver.Url);
        receiver.Secrets.Enqueue(endpoint.Secret);
        var arrived = new TaskCompletionSource();
        receiver.Answer = async (got, ctx) =>
        {
            if (got.Attempt == 1)
            {
                arrived.TrySetResult();
                await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            return 200;
        };
        var options = WebhookTestBed.FastOptions();
        options.AttemptTimeout = TimeSpan.FromMilliseconds(500); // lease: 1.5 s
        var dying = await bed.StartWorkerAsync(WebhookTestBed.FastOptions());
        await bed.MintAsync(1);
        await arrived.Task.WaitAsync(Wait);
        await bed.StopWorkerAsync(dying); // the attempt is cancelled and its lease handed back, not counted (a crash: WebhookCrashTests)
        var leased = Assert.Single(await bed.DeliveriesAsync(endpoint.Id));
        Assert.Equal((WebhookDeliveryStatus.Pending, 0), (leased.Status, leased.Attempts));

        await bed.StartWorkerAsync(options);
        await Eventually.TrueAsync(async () => (await bed.DeliveriesAsync(endpoint.Id, WebhookDeliveryStatus.Delivered)).Count == 1, "the delivery sent again after the lease ran out", Wait);
        var ids = receiver.Received.Select(r => r.Id).ToList();
        Assert.Equal(2, ids.Count);
        Assert.Single(ids.Distinct()); // same webhook-id: the receiver dedupes on it
    }
}
