using System.Numerics;
using Dapper;
using OpenMint.Core.Pipeline;

namespace OpenMint.Storage.Tests;

/// <summary>
/// Treasury top-ups in the store (docs/transactions.md, "Treasury top-ups"), on each backend: written ahead only under the
/// treasury's live lease, never a second pending one for a wallet or for a treasury, fee bumps and broadcasts fenced, and the end.
/// </summary>
public abstract class TopUpStoreTests<TBackend>(TBackend backend) : StoreSuite<TBackend>(backend) where TBackend : class, IStoreBackend
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private const string Treasury = "0x00000000000000000000000000000000000000fe";
    private const string WalletA = "0x00000000000000000000000000000000000000a1";
    private const string WalletB = "0x00000000000000000000000000000000000000b2";

    private static NewAttempt Attempt(int n) => new(AttemptKind.TopUp, [(byte)n, 1], "0x" + n.ToString("x64", System.Globalization.CultureInfo.InvariantCulture), 1, 2, 21_000);

    private async Task<LeaseFence> LeaseAsync(string chain, string instance)
    {
        var lease = await Store.Pipeline.TryAcquireLeaseAsync(TreasuryLease.Key(chain), Treasury, instance, T0, TimeSpan.FromMinutes(1), Ct);
        return Assert.IsType<SignerLease>(lease).Fence;
    }

    [Fact]
    public async Task a_top_up_is_written_ahead_only_under_the_treasury_lease_and_one_at_a_time()
    {
        var chain = Unique("c");
        var fence = await LeaseAsync(chain, "a");
        var stale = fence with { Instance = "b" };
        Assert.Null(await Store.Pipeline.RecordTopUpAsync(stale, new NewTopUp(chain, WalletA, 0, 7, 1, Attempt(1)), T0, Ct));
        Assert.Null(await Store.Pipeline.RecordTopUpAsync(fence, new NewTopUp(chain, WalletA, 0, 7, 1, Attempt(1)), T0.AddMinutes(2), Ct)); // expired

        var first = await Store.Pipeline.RecordTopUpAsync(fence, new NewTopUp(chain, WalletA.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal), 0, 7, 1, Attempt(1)), T0, Ct);
        Assert.NotNull(first);
        Assert.Equal(WalletA, first.Wallet);
        // Never two for one dip, and the treasury's top-ups go one at a time.
        Assert.Null(await Store.Pipeline.RecordTopUpAsync(fence, new NewTopUp(chain, WalletA, 1, 7, 1, Attempt(2)), T0, Ct));
        Assert.Null(await Store.Pipeline.RecordTopUpAsync(fence, new NewTopUp(chain, WalletB, 1, 7, 1, Attempt(3)), T0, Ct));

        var pending = Assert.Single(await Store.Pipeline.ListPendingTopUpsAsync(chain, Ct));
        Assert.Equal((first.Id, Treasury, 0L, new BigInteger(7), new BigInteger(1)), (pending.Id, pending.Treasury, pending.Nonce, pending.Value, pending.BalanceSeen));
        var attempt = Assert.Single(pending.Attempts);
        Assert.Equal(Attempt(1).Hash, attempt.Hash);
        Assert.Equal([1, 1], attempt.Raw);
        Assert.Null(attempt.BroadcastAt);

        Assert.False(await Store.Pipeline.MarkTopUpBroadcastAsync(stale, attempt.Id, SendOutcome.Accepted, true, T0, Ct));
        Assert.True(await Store.Pipeline.MarkTopUpBroadcastAsync(fence, attempt.Id, SendOutcome.Accepted, true, T0, Ct));
        Assert.Null(await Store.Pipeline.AddTopUpAttemptAsync(stale, first.Id, Attempt(4), T0, Ct));
        Assert.NotNull(await Store.Pipeline.AddTopUpAttemptAsync(fence, first.Id, Attempt(4), T0, Ct));
        pending = Assert.Single(await Store.Pipeline.ListPendingTopUpsAsync(chain, Ct));
        Assert.Equal([Attempt(1).Hash, Attempt(4).Hash], pending.Attempts.Select(a => a.Hash));
        Assert.Equal(nameof(SendOutcome.Accepted), pending.Attempts[0].Outcome);
        Assert.NotNull(pending.Attempts[0].BroadcastAt);

        Assert.False(await Store.Pipeline.FinishTopUpAsync(stale, first.Id, TopUpState.Done, Attempt(4).Hash, 9, null, T0, Ct));
        Assert.True(await Store.Pipeline.FinishTopUpAsync(fence, first.Id, TopUpState.Done, Attempt(4).Hash, 9, null, T0, Ct));
        Assert.False(await Store.Pipeline.FinishTopUpAsync(fence, first.Id, TopUpState.Abandoned, null, null, "again", T0, Ct));
        Assert.Empty(await Store.Pipeline.ListPendingTopUpsAsync(chain, Ct));
        Assert.Null(await Store.Pipeline.AddTopUpAttemptAsync(fence, first.Id, Attempt(5), T0, Ct)); // over: no more versions

        // The next dip (of any wallet) gets its own top-up.
        var second = await Store.Pipeline.RecordTopUpAsync(fence, new NewTopUp(chain, WalletB, 1, 5, 2, Attempt(6)), T0, Ct);
        Assert.NotNull(second);
        Assert.Equal([second.Id, first.Id], (await Store.Pipeline.ListTopUpsAsync(chain, 10, Ct)).Select(t => t.Id));
        Assert.Equal(Attempt(4).Hash, (await Store.Pipeline.ListTopUpsAsync(chain, 10, Ct))[1].MinedHash);
    }

    [Fact]
    public async Task a_chain_keeps_where_its_treasury_key_lives_and_its_top_up_target()
    {
        var chain = new OpenMint.Core.Tenancy.ChainConfig(Unique("c"), 31337, ["http://127.0.0.1:8545"], "file:/keys/minter", 0, T0)
            { LowBalanceWei = "5", TreasuryKeyRef = "env:TREASURY", TopUpToWei = "8" };
        await Store.Tenancy.UpsertChainAsync(chain, Ct);
        var read = (await Store.Tenancy.GetChainAsync(chain.Name, Ct))!;
        Assert.Equal(("env:TREASURY", "8", "5"), (read.TreasuryKeyRef, read.TopUpToWei, read.LowBalanceWei));
        await Store.Tenancy.UpsertChainAsync(read with { TreasuryKeyRef = null, TopUpToWei = null }, Ct);
        read = (await Store.Tenancy.GetChainAsync(chain.Name, Ct))!;
        Assert.Equal((null, null), (read.TreasuryKeyRef, read.TopUpToWei));
    }

    [Fact]
    public async Task the_treasury_lease_row_is_apart_from_the_minters_rows_and_the_partial_index_refuses_a_second_pending_row()
    {
        var chain = Unique("c");
        await LeaseAsync(chain, "a");
        await using var c = await Store.Database.OpenConnectionAsync(Ct);
        Assert.Equal(0, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM signer_lease WHERE chain_name = @chain", new { chain }));
        Assert.Equal(1, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM signer_lease WHERE chain_name = @key", new { key = chain + "/treasury" }));
        const string insert = "INSERT INTO top_up (chain_name, treasury_address, wallet_address, nonce, value_wei, balance_wei, state, created_at, updated_at) VALUES (@chain, @t, @w, @n, '1', '0', 'pending', 'x', 'x')";
        await c.ExecuteAsync(insert, new { chain, t = Treasury, w = WalletA, n = 0 });
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => c.ExecuteAsync(insert, new { chain, t = "0x00000000000000000000000000000000000000ff", w = WalletA, n = 0 }));
    }
}

public sealed class SqliteTopUpStoreTests(SqliteBackend backend) : TopUpStoreTests<SqliteBackend>(backend);

public sealed class PostgresTopUpStoreTests(PostgresBackend backend) : TopUpStoreTests<PostgresBackend>(backend);
