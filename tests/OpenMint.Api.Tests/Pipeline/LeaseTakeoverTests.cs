using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Dapper;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Storage;
using OpenMint.TestSupport;
using Xunit.Abstractions;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>
/// Two real <c>openmint serve</c> processes on one PostgreSQL database and one Anvil: the lease holder is frozen
/// (SIGSTOP) past its lease while the other takes over and mints, then thawed (SIGCONT); and the holder is killed
/// (SIGKILL) while the other waits, with the takeover time measured.
/// </summary>
public sealed class LeaseTakeoverTests(AnvilFixture anvil, PostgresFixture postgres, ITestOutputHelper output)
    : IClassFixture<AnvilFixture>, IClassFixture<PostgresFixture>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    /// <summary>Owners of this test only (the class shares one chain), so balances count this test's mints.</summary>
    private readonly string[] Owners = Enumerable.Range(0, 3).Select(_ => "0x" + Guid.NewGuid().ToString("N") + "00000000").ToArray();

    private readonly List<(string Ref, string Owner)> _expected = new();

    [Fact]
    public async Task a_frozen_lease_holder_that_thaws_writes_nothing_for_the_nonces_it_lost()
    {
        var db = await postgres.NewDatabaseAsync();
        await using var store = await OpenMintStorage.OpenAsync(db, Ct);
        var tenancy = await PipelineTenancy.CreateAsync(store, anvil.Deployment);
        await AddRequestsAsync(store, tenancy, "a", 12);
        using var a = ServeProcess.Start(db, null);
        await Eventually.TrueAsync(async () => await ServeProcess.LeaseHolderPidAsync(store) == a.Process.Id, "instance a holds the lease", TimeSpan.FromSeconds(60));

        // Freeze the holder right as it signs (its next steps are broadcasts and their marks), while it is busy.
        var frozen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.OnLine = line =>
        {
            if (line.Contains("signed nonce", StringComparison.Ordinal) && !frozen.Task.IsCompleted)
            {
                a.Signal("STOP");
                frozen.TrySetResult();
            }
        };
        for (var round = 0; round < 20 && !frozen.Task.IsCompleted; round++)
        {
            await AddRequestsAsync(store, tenancy, $"b{round}", 6);
            await Task.WhenAny(frozen.Task, Task.Delay(300));
        }
        Assert.True(frozen.Task.IsCompleted, a.Tail);
        var frozenAt = Stopwatch.StartNew();

        // The other instance takes over once the lease has expired, and mints everything, the frozen one's signed nonces included.
        using var b = ServeProcess.Start(db, null);
        await Eventually.TrueAsync(async () => await ServeProcess.LeaseHolderPidAsync(store) == b.Process.Id, "instance b holds the lease", TimeSpan.FromSeconds(60));
        output.WriteLine($"taken over {frozenAt.Elapsed.TotalSeconds:0.0} s after the freeze (lease 2 s, plus the second process's start)");
        await AddRequestsAsync(store, tenancy, "c", 6);
        await Eventually.TrueAsync(async () => await ScalarAsync(store, "SELECT COUNT(*) FROM mint_request WHERE status = 'pending'") == 0,
            "every request minted", TimeSpan.FromSeconds(120));
        await Task.Delay(1000); // the holder's last confirmations settle
        var before = await SnapshotAsync(store);

        // Thawed: the old holder resumes mid-tick; every write it tries is refused and it changes nothing.
        var linesBefore = a.Lines.Count;
        a.Signal("CONT");
        await Task.Delay(4000);
        Assert.False(a.Process.HasExited, a.Tail);
        Assert.Equal(before, await SnapshotAsync(store));
        Assert.Equal(b.Process.Id, await ServeProcess.LeaseHolderPidAsync(store));
        var after = a.Lines.Skip(linesBefore).ToList();
        output.WriteLine($"thawed instance: {after.Count(l => l.Contains("changed nothing", StringComparison.Ordinal))} refused writes logged");
        Assert.DoesNotContain(after, l => l.Contains("succeeded:", StringComparison.Ordinal) || l.Contains("replaced by", StringComparison.Ordinal));

        await AssertMintedOnceAsync(store, tenancy);
    }

    [Fact]
    public async Task kill_9_of_the_lease_holder_hands_the_lease_to_the_waiting_instance_within_about_one_lease()
    {
        var db = await postgres.NewDatabaseAsync();
        await using var store = await OpenMintStorage.OpenAsync(db, Ct);
        var tenancy = await PipelineTenancy.CreateAsync(store, anvil.Deployment);
        var lease = new PipelineOptions().LeaseDuration; // the default, as deployed
        var settings = new Dictionary<string, string> { ["Pipeline:LeaseDuration"] = lease.ToString("c", CultureInfo.InvariantCulture), ["Pipeline:PollInterval"] = "00:00:00.5" };
        using var first = ServeProcess.Start(db, null, settings);
        using var second = ServeProcess.Start(db, null, settings);
        await AddRequestsAsync(store, tenancy, "a", 9);
        await Eventually.TrueAsync(async () => await ScalarAsync(store, "SELECT COUNT(*) FROM mint_request WHERE status = 'pending'") == 0,
            "the first requests minted", TimeSpan.FromSeconds(90));
        var holderPid = await ServeProcess.LeaseHolderPidAsync(store);
        var (holder, waiting) = holderPid == first.Process.Id ? (first, second) : (second, first);
        Assert.Equal(holder.Process.Id, holderPid);

        var attempts = await ScalarAsync(store, "SELECT COUNT(*) FROM tx_attempt");
        holder.Process.Kill(entireProcessTree: true);
        var killed = Stopwatch.StartNew();
        await AddRequestsAsync(store, tenancy, "b", 9);
        await Eventually.TrueAsync(async () => await ServeProcess.LeaseHolderPidAsync(store) == waiting.Process.Id, "the waiting instance holds the lease", lease * 3);
        var takeover = killed.Elapsed;
        await Eventually.TrueAsync(async () => await ScalarAsync(store, "SELECT COUNT(*) FROM tx_attempt") > attempts, "a new tx from the new holder", lease * 3);
        var firstTx = killed.Elapsed;
        output.WriteLine($"lease {lease.TotalSeconds} s: taken over {takeover.TotalSeconds:0.0} s after kill -9, first new tx {firstTx.TotalSeconds:0.0} s after");
        Assert.InRange(takeover, TimeSpan.Zero, lease + TimeSpan.FromSeconds(3));
        await Eventually.TrueAsync(async () => await ScalarAsync(store, "SELECT COUNT(*) FROM mint_request WHERE status = 'pending'") == 0,
            "every request minted", TimeSpan.FromSeconds(90));
        await AssertMintedOnceAsync(store, tenancy);
    }

    private async Task AddRequestsAsync(OpenMintStorage store, PipelineTenancy tenancy, string prefix, int count)
    {
        var collection = tenancy.Collections["erc721"];
        var chain = (await store.Tenancy.GetChainAsync(PipelineTenancy.ChainName, Ct))!;
        // One request per call: each its own owner group order, so batches keep coming.
        for (var i = 0; i < count; i++)
        {
            var asset = new MintAsset($"{prefix}-{i}", Owners[i % Owners.Length], null, null, null);
            Assert.IsType<MintIntakeOutcome.Accepted>(await store.Minting.AcceptMintRequestsAsync(new MintIntake(collection, chain, [asset], 1_000_000, 1), Ct));
            _expected.Add((asset.ReferenceId, asset.OwnerAddress));
        }
    }

    /// <summary>Every request succeeded with its own token, each token on chain once with its owner, and no nonce left unused.</summary>
    private async Task AssertMintedOnceAsync(OpenMintStorage store, PipelineTenancy tenancy)
    {
        var collection = tenancy.Collections["erc721"];
        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var tokens = new HashSet<string>();
        foreach (var (reference, owner) in _expected)
        {
            var r = (await store.Minting.GetMintRequestAsync(collection.Id, reference, Ct))!;
            Assert.True(r.Status == MintStatus.Succeeded, $"{reference}: {r.Status} {r.ErrorMessage}");
            Assert.True(tokens.Add(r.TokenId!), $"token {r.TokenId} assigned twice");
            Assert.Equal(owner, await rpc.OwnerOfAsync(collection.Address, BigInteger.Parse(r.TokenId!, CultureInfo.InvariantCulture)));
        }
        foreach (var owner in Owners)
        {
            Assert.Equal(_expected.Count(e => e.Owner == owner), (int)await rpc.BalanceOfAsync(collection.Address, owner));
        }
        Assert.Equal(_expected.Count, await ScalarAsync(store, "SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));
        var chainNonce = (long)ParseQuantity(await rpc.CallAsync("eth_getTransactionCount", anvil.Deployment.MinterAddress, "latest"));
        Assert.Equal(chainNonce, await ScalarAsync(store, "SELECT next_nonce FROM signer_lease"));
    }

    private static BigInteger ParseQuantity(JsonElement e) => BigInteger.Parse("0" + e.GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>Everything a sender writes for a nonce, as one text: attempts (outcome, acknowledgement), txs (state, hash), requests, events.</summary>
    private static async Task<string> SnapshotAsync(OpenMintStorage store)
    {
        await using var c = await store.Database.OpenConnectionAsync(Ct);
        return string.Join(" | ", await c.ExecuteScalarAsync<string>(
            "SELECT string_agg(id || ':' || COALESCE(outcome, '') || ':' || COALESCE(broadcast_at, ''), ',' ORDER BY id) FROM tx_attempt"),
            await c.ExecuteScalarAsync<string>(
                "SELECT string_agg(id || ':' || state || ':' || COALESCE(mined_hash, '') || ':' || updated_at, ',' ORDER BY id) FROM tx"),
            await c.ExecuteScalarAsync<string>(
                "SELECT string_agg(id || ':' || status || ':' || COALESCE(token_id, '') || ':' || updated_at, ',' ORDER BY id) FROM mint_request"),
            await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM mint_event"));
    }

    private static async Task<long> ScalarAsync(OpenMintStorage store, string sql)
    {
        await using var c = await store.Database.OpenConnectionAsync(Ct);
        return await c.ExecuteScalarAsync<long>(sql);
    }
}
