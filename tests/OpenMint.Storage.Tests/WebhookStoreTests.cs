using Dapper;
using OpenMint.Core;
using OpenMint.Core.Tenancy;
using OpenMint.Core.Webhooks;

namespace OpenMint.Storage.Tests;

/// <summary>The webhook area (IWebhookStore) on each backend: endpoints, fan-out, leases, ordering, outcomes, redrive.</summary>
public abstract class WebhookStoreTests<TBackend>(TBackend backend) : StoreSuite<TBackend>(backend) where TBackend : class, IStoreBackend
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private Project _project = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _project = new Project(UuidV7.New().ToString(), "p", "0x" + new string('a', 40), 1_000_000, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await Store.Tenancy.CreateProjectAsync(_project, Ct);
    }

    private async Task<WebhookEndpoint> NewEndpointAsync(params string[] events)
    {
        var e = new WebhookEndpoint(UuidV7.New().ToString(), _project.Id, "https://studio.example/hook", events, WebhookSecrets.New(), null, null, true, null, T0);
        await Store.Webhooks.AddEndpointAsync(e, Ct);
        return e;
    }

    /// <summary>Queues deliveries at fresh sequence numbers through the fan-out (moving its position as the worker would).</summary>
    private async Task QueueAsync(WebhookEndpoint endpoint, params string[] orderingKeys)
    {
        var from = await Store.Webhooks.GetFanOutPositionAsync(Ct);
        var deliveries = orderingKeys.Select((k, i) => new NewWebhookDelivery(endpoint.Id, from + i + 1, UuidV7.New().ToString(), WebhookEvents.MintRequestUpdated, k, "{}")).ToList();
        Assert.True(await Store.Webhooks.FanOutAsync(from, from + orderingKeys.Length, deliveries, T0, Ct));
    }

    [Fact]
    public async Task endpoints_are_added_listed_rotated_disabled_and_removed()
    {
        var e = await NewEndpointAsync(WebhookEvents.MintRequestUpdated);
        var got = (await Store.Webhooks.GetEndpointAsync(e.Id, Ct))!;
        Assert.Equal(e with { Events = got.Events }, got);
        Assert.Equal([WebhookEvents.MintRequestUpdated], got.Events);
        Assert.Contains(await Store.Webhooks.ListEndpointsAsync(_project.Id, Ct), x => x.Id == e.Id);
        Assert.Empty(await Store.Webhooks.ListEndpointsAsync("no-such-project", Ct));

        var secret = WebhookSecrets.New();
        Assert.True(await Store.Webhooks.RotateSecretAsync(e.Id, secret, T0.AddHours(24), T0, Ct));
        var rotated = (await Store.Webhooks.GetEndpointAsync(e.Id, Ct))!;
        Assert.Equal((secret, e.Secret, T0.AddHours(24)), (rotated.Secret, rotated.PreviousSecret, rotated.PreviousSecretUntil));
        Assert.Equal([secret, e.Secret], rotated.SigningSecrets(T0.AddHours(23)));
        Assert.Equal([secret], rotated.SigningSecrets(T0.AddHours(24)));

        Assert.True(await Store.Webhooks.SetEnabledAsync(e.Id, false, "by hand", T0, Ct));
        Assert.Equal((false, "by hand"), ((await Store.Webhooks.GetEndpointAsync(e.Id, Ct))!.Enabled, (await Store.Webhooks.GetEndpointAsync(e.Id, Ct))!.DisabledReason));
        Assert.True(await Store.Webhooks.SetEnabledAsync(e.Id, true, null, T0, Ct));
        Assert.False(await Store.Webhooks.SetEnabledAsync("nope", true, null, T0, Ct));

        await QueueAsync(e, "k");
        Assert.True(await Store.Webhooks.RemoveEndpointAsync(e.Id, Ct));
        Assert.Null(await Store.Webhooks.GetEndpointAsync(e.Id, Ct));
        Assert.Empty(await Store.Webhooks.ListDeliveriesAsync(e.Id, null, 10, Ct));
        Assert.False(await Store.Webhooks.RemoveEndpointAsync(e.Id, Ct));
    }

    [Fact]
    public async Task the_fan_out_moves_only_from_where_it_is_and_skips_disabled_endpoints()
    {
        var e = await NewEndpointAsync();
        var off = await NewEndpointAsync();
        await Store.Webhooks.SetEnabledAsync(off.Id, false, "off", T0, Ct);
        var from = await Store.Webhooks.GetFanOutPositionAsync(Ct);
        var batch = new[] { new NewWebhookDelivery(e.Id, from + 1, "id-a", WebhookEvents.MintRequestUpdated, "k", "{}"), new NewWebhookDelivery(off.Id, from + 1, "id-a", WebhookEvents.MintRequestUpdated, "k", "{}") };
        Assert.True(await Store.Webhooks.FanOutAsync(from, from + 1, batch, T0, Ct));
        Assert.False(await Store.Webhooks.FanOutAsync(from, from + 1, batch, T0, Ct)); // another instance got there first
        Assert.Equal(from + 1, await Store.Webhooks.GetFanOutPositionAsync(Ct));
        Assert.Single(await Store.Webhooks.ListDeliveriesAsync(e.Id, WebhookDeliveryStatus.Pending, 10, Ct));
        Assert.Empty(await Store.Webhooks.ListDeliveriesAsync(off.Id, null, 10, Ct));
        await Store.Webhooks.WaitForEventWritersAsync(Ct);
    }

    [Fact]
    public async Task a_claim_leases_due_deliveries_once_in_order_and_holds_back_later_events_of_a_pending_key()
    {
        var e = await NewEndpointAsync();
        await QueueAsync(e, "a", "b", "a", "c");
        var first = await Store.Webhooks.ClaimDueAsync(e.Id, 10, T0, T0.AddSeconds(30), Ct);
        Assert.Equal(["a", "b", "c"], first.Select(d => d.OrderingKey).ToArray()); // the second "a" waits for the first
        Assert.All(first, d => Assert.Equal(1, d.Attempts));
        Assert.Empty(await Store.Webhooks.ClaimDueAsync(e.Id, 10, T0.AddSeconds(1), T0.AddSeconds(31), Ct)); // leased

        var a1 = first[0];
        await Store.Webhooks.RecordOutcomesAsync([(a1, new DeliveryOutcome.Retry(T0.AddSeconds(5), 500, "HTTP 500")),
            (first[1], new DeliveryOutcome.Delivered(200)), (first[2], new DeliveryOutcome.Failed(400, "HTTP 400", false))], T0.AddSeconds(1), Ct);
        Assert.Empty(await Store.Webhooks.ClaimDueAsync(e.Id, 10, T0.AddSeconds(2), T0.AddSeconds(32), Ct)); // a1 not due; a2 behind it
        var retry = Assert.Single(await Store.Webhooks.ClaimDueAsync(e.Id, 10, T0.AddSeconds(5), T0.AddSeconds(35), Ct));
        Assert.Equal((a1.Id, 2), (retry.Id, retry.Attempts));
        await Store.Webhooks.RecordOutcomesAsync([(retry, new DeliveryOutcome.Delivered(204))], T0.AddSeconds(6), Ct);
        var a2 = Assert.Single(await Store.Webhooks.ClaimDueAsync(e.Id, 10, T0.AddSeconds(6), T0.AddSeconds(36), Ct));
        Assert.Equal("a", a2.OrderingKey);
        Assert.True(a2.EventSeq > a1.EventSeq);

        // A lease that ran out (its sender died) is claimed again, same event id.
        var again = Assert.Single(await Store.Webhooks.ClaimDueAsync(e.Id, 10, T0.AddSeconds(37), T0.AddSeconds(67), Ct));
        Assert.Equal((a2.EventId, 2), (again.EventId, again.Attempts));

        var rows = await Store.Webhooks.ListDeliveriesAsync(e.Id, null, 10, Ct);
        Assert.Equal(2, rows.Count(d => d.Status == WebhookDeliveryStatus.Delivered));
        var failed = Assert.Single(await Store.Webhooks.ListDeliveriesAsync(e.Id, WebhookDeliveryStatus.Failed, 10, Ct));
        Assert.Equal((400, "HTTP 400"), (failed.LastStatusCode, failed.LastError));

        Assert.Equal(0, await Store.Webhooks.RedriveAsync(e.Id, T0.AddDays(1), T0.AddSeconds(40), Ct));
        Assert.Equal(1, await Store.Webhooks.RedriveAsync(e.Id, null, T0.AddSeconds(40), Ct));
        var redriven = (await Store.Webhooks.ListDeliveriesAsync(e.Id, WebhookDeliveryStatus.Pending, 10, Ct)).Single(d => d.Id == failed.Id);
        Assert.Equal((0, T0.AddSeconds(40)), (redriven.Attempts, redriven.QueuedAt));
    }

    [Fact]
    public async Task a_round_records_outcomes_then_fans_out_then_claims_in_one_transaction()
    {
        var e = await NewEndpointAsync();
        await QueueAsync(e, "a", "a", "b");
        var first = await Store.Webhooks.ClaimDueAsync(e.Id, 10, T0, T0.AddSeconds(30), Ct);
        Assert.Equal(["a", "b"], first.Select(d => d.OrderingKey).ToArray());
        var from = await Store.Webhooks.GetFanOutPositionAsync(Ct);
        var fanOut = new WebhookFanOutStep(from, from + 1, [new NewWebhookDelivery(e.Id, from + 1, "id-new", WebhookEvents.RefreshCompleted, "refresh:1", "{}")]);

        // a delivered frees the second "a" for this round's claim; b handed back unsent; the fanned-out row is claimable at once.
        var result = await Store.Webhooks.RunRoundAsync(new WebhookRound(
            [(first[0], new DeliveryOutcome.Delivered(200)), (first[1], new DeliveryOutcome.Released())], fanOut, [new WebhookClaim(e.Id, 10)],
            T0.AddSeconds(1), T0.AddSeconds(31)), Ct);

        Assert.True(result.FannedOut);
        var claimed = Assert.Single(result.Claims);
        Assert.Equal(["a", "b", "refresh:1"], claimed.Deliveries.Select(d => d.OrderingKey).ToArray());
        Assert.Equal(1, claimed.Deliveries.Single(d => d.OrderingKey == "b").Attempts); // the released attempt was not counted
        Assert.Null(claimed.NextDueAt);

        var retried = claimed.Deliveries[0];
        var next = await Store.Webhooks.RunRoundAsync(new WebhookRound(
            [(retried, new DeliveryOutcome.Retry(T0.AddSeconds(9), 503, "HTTP 503"))], new WebhookFanOutStep(from, from + 1, []), [new WebhookClaim(e.Id, 10)],
            T0.AddSeconds(2), T0.AddSeconds(32)), Ct);
        Assert.False(next.FannedOut); // the position moved already
        Assert.Empty(Assert.Single(next.Claims).Deliveries);
        Assert.Equal(T0.AddSeconds(9), next.Claims[0].NextDueAt); // the worker skips this endpoint until then
    }

    [Fact]
    public async Task many_retry_outcomes_recorded_at_once_each_keep_their_own_next_attempt_code_and_error()
    {
        var e = await NewEndpointAsync();
        await QueueAsync(e, Enumerable.Range(0, 450).Select(i => "k" + i).ToArray()); // more than one statement's chunk
        var leased = await Store.Webhooks.ClaimDueAsync(e.Id, 450, T0, T0.AddSeconds(30), Ct);
        Assert.Equal(450, leased.Count);
        await Store.Webhooks.RecordOutcomesAsync([(leased[0], new DeliveryOutcome.Delivered(200))], T0, Ct);

        // The first is delivered already (a stale retry must not touch it); every other gets its own instant, code and error.
        var outcomes = leased.Select((d, i) => (d, (DeliveryOutcome)new DeliveryOutcome.Retry(T0.AddMilliseconds(1_000 + i), i % 2 == 0 ? 500 + i % 4 : null, "error " + i))).ToList();
        await Store.Webhooks.RecordOutcomesAsync(outcomes, T0.AddSeconds(1), Ct);

        var rows = (await Store.Webhooks.ListDeliveriesAsync(e.Id, null, 1_000, Ct)).ToDictionary(d => d.Id);
        Assert.Equal((WebhookDeliveryStatus.Delivered, 200, (string?)null), (rows[leased[0].Id].Status, rows[leased[0].Id].LastStatusCode, rows[leased[0].Id].LastError));
        for (var i = 1; i < leased.Count; i++)
        {
            var row = rows[leased[i].Id];
            Assert.Equal((WebhookDeliveryStatus.Pending, T0.AddMilliseconds(1_000 + i), i % 2 == 0 ? 500 + i % 4 : (int?)null, "error " + i),
                (row.Status, row.NextAttemptAt, row.LastStatusCode, row.LastError));
        }
        // Leases ended: each is claimable again exactly from its own instant on.
        Assert.Empty(await Store.Webhooks.ClaimDueAsync(e.Id, 1_000, T0.AddMilliseconds(1_000), T0.AddSeconds(40), Ct));
        var due = await Store.Webhooks.ClaimDueAsync(e.Id, 1_000, T0.AddMilliseconds(1_100), T0.AddSeconds(40), Ct);
        Assert.Equal(leased.Skip(1).Take(100).Select(d => d.Id).ToArray(), due.Select(d => d.Id).ToArray());
        Assert.All(due, d => Assert.Equal(2, d.Attempts));
    }

    [Fact]
    public async Task concurrent_claims_never_lease_the_same_delivery_twice()
    {
        var e = await NewEndpointAsync();
        await QueueAsync(e, Enumerable.Range(0, 200).Select(i => "k" + i).ToArray());
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.Webhooks.ClaimDueAsync(e.Id, 40, T0, T0.AddSeconds(30), Ct))));
        Assert.All(claims, c => Assert.InRange(c.Count, 0, 40)); // never more than asked for, whatever the plan
        var ids = claims.SelectMany(c => c.Select(d => d.Id)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(200, ids.Count);
    }

    /// <summary>
    /// Appends <paramref name="count"/> events of the project to the log, numbered after both the log and the stored position
    /// (the other tests move it over numbers without events); returns their sequence numbers.
    /// </summary>
    private async Task<long[]> AppendEventsAsync(int count)
    {
        await using var c = await Store.Database.OpenConnectionAsync(Ct);
        var after = Math.Max(await c.ExecuteScalarAsync<long>("SELECT last_seq FROM webhook_fanout WHERE id = 1"),
            await c.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(seq), 0) FROM mint_event"));
        var seqs = Enumerable.Range(1, count).Select(i => after + i).ToArray();
        foreach (var seq in seqs)
        {
            await c.ExecuteAsync(
                "INSERT INTO mint_event (seq, event_id, project_id, mint_request_id, status, payload, created_at) VALUES (@seq, @id, @p, @seq, 'pending', '{}', '2026-12-03T00:00:00Z')",
                new { seq, id = UuidV7.New().ToString(), p = _project.Id });
        }
        return seqs;
    }

    /// <summary>Runs <paramref name="work"/> while another transaction holds the write lock (SQLite) or blocks writes to the webhook tables (PostgreSQL): it must not write.</summary>
    private async Task<T> WithWritesBlockedAsync<T>(Func<Task<T>> work) =>
        await Store.Database.InTransactionAsync(async (c, tx) =>
        {
            if (!Store.Webhooks.PositionFollowsLogWithoutEndpoints)
            {
                await c.ExecuteAsync("LOCK TABLE webhook_delivery, webhook_fanout, webhook_endpoint IN EXCLUSIVE MODE", transaction: tx);
            }
            return await work().WaitAsync(TimeSpan.FromSeconds(20));
        }, Ct);

    /// <summary>The worker's fan-out until it has nothing left, written as the worker would; how many steps it wrote.</summary>
    private async Task<int> FanOutAllAsync()
    {
        var written = 0;
        while (await new WebhookFanOut(Store.Events, Store.Webhooks).PrepareAsync(Ct) is { } step)
        {
            Assert.True(await Store.Webhooks.FanOutAsync(step.From, step.To, step.Deliveries, T0, Ct));
            written++;
        }
        return written;
    }

    [Fact]
    public async Task with_no_endpoint_enabled_the_fan_out_writes_nothing_on_sqlite_and_an_endpoint_added_later_gets_only_later_events()
    {
        foreach (var old in await Store.Webhooks.ListEndpointsAsync(null, Ct))
        {
            await Store.Webhooks.SetEnabledAsync(old.Id, false, "off", T0, Ct);
        }
        await FanOutAllAsync();
        var before = await AppendEventsAsync(3);
        if (Store.Webhooks.PositionFollowsLogWithoutEndpoints)
        {
            // SQLite: the position read is the log's end, and the worker's fan-out has nothing to write, while writes are blocked.
            Assert.Equal(before[^1], await WithWritesBlockedAsync(() => Store.Webhooks.GetFanOutPositionAsync(Ct)));
            Assert.Null(await WithWritesBlockedAsync(() => new WebhookFanOut(Store.Events, Store.Webhooks).PrepareAsync(Ct)));
        }
        else
        {
            Assert.Equal(1, await FanOutAllAsync()); // PostgreSQL: the workers move the stored position over them
        }
        Assert.Equal(before[^1], await Store.Webhooks.GetFanOutPositionAsync(Ct));

        var e = await NewEndpointAsync();
        Assert.Equal(before[^1], await Store.Webhooks.GetFanOutPositionAsync(Ct)); // stored now: it does not go back
        var later = await AppendEventsAsync(2);
        var step = (await WithWritesBlockedAsync(() => new WebhookFanOut(Store.Events, Store.Webhooks).PrepareAsync(Ct)))!; // reads only
        Assert.Equal((before[^1], later[^1]), (step.From, step.To));
        Assert.Equal(later, step.Deliveries.Where(d => d.EndpointId == e.Id).Select(d => d.EventSeq).ToArray());

        // Disabled again and re-enabled after more events: again only what comes after.
        await Store.Webhooks.SetEnabledAsync(e.Id, false, "off", T0, Ct);
        var whileOff = await AppendEventsAsync(2);
        await FanOutAllAsync();
        Assert.Equal(whileOff[^1], await Store.Webhooks.GetFanOutPositionAsync(Ct));
        await Store.Webhooks.SetEnabledAsync(e.Id, true, null, T0, Ct);
        var last = await AppendEventsAsync(1);
        var again = (await new WebhookFanOut(Store.Events, Store.Webhooks).PrepareAsync(Ct))!;
        Assert.Equal(last, again.Deliveries.Where(d => d.EndpointId == e.Id).Select(d => d.EventSeq).ToArray());
    }

    [Fact]
    public async Task a_round_with_nothing_to_write_answers_its_claims_from_reads_without_taking_the_write_lock()
    {
        var e = await NewEndpointAsync();
        await QueueAsync(e, "a");
        var d = Assert.Single(await Store.Webhooks.ClaimDueAsync(e.Id, 10, T0, T0.AddSeconds(30), Ct));
        await Store.Webhooks.RecordOutcomesAsync([(d, new DeliveryOutcome.Retry(T0.AddSeconds(7), 500, "HTTP 500"))], T0.AddSeconds(1), Ct);

        var idle = await WithWritesBlockedAsync(() => Store.Webhooks.RunRoundAsync(
            new WebhookRound([], null, [new WebhookClaim(e.Id, 10)], T0.AddSeconds(2), T0.AddSeconds(32)), Ct));
        var claimed = Assert.Single(idle.Claims);
        Assert.Empty(claimed.Deliveries);
        Assert.Equal(T0.AddSeconds(7), claimed.NextDueAt);

        // Once due, the same round leases it (a write).
        var due = Assert.Single((await Store.Webhooks.RunRoundAsync(
            new WebhookRound([], null, [new WebhookClaim(e.Id, 10)], T0.AddSeconds(7), T0.AddSeconds(37)), Ct)).Claims);
        Assert.Equal((d.Id, 2), (Assert.Single(due.Deliveries).Id, due.Deliveries[0].Attempts));
    }

    [Fact]
    public async Task a_410_disables_the_endpoint_in_the_same_transaction()
    {
        var e = await NewEndpointAsync();
        await QueueAsync(e, "x");
        var d = Assert.Single(await Store.Webhooks.ClaimDueAsync(e.Id, 10, T0, T0.AddSeconds(30), Ct));
        await Store.Webhooks.RecordOutcomesAsync([(d, new DeliveryOutcome.Failed(410, "410 Gone", true))], T0, Ct);
        var after = (await Store.Webhooks.GetEndpointAsync(e.Id, Ct))!;
        Assert.False(after.Enabled);
        Assert.Equal("410 Gone", after.DisabledReason);
    }
}

public sealed class SqliteWebhookStoreTests(SqliteBackend backend) : WebhookStoreTests<SqliteBackend>(backend);

public sealed class PostgresWebhookStoreTests(PostgresBackend backend) : WebhookStoreTests<PostgresBackend>(backend);
