namespace OpenMint.Storage.Tests;

/// <summary>Fixed-window limits (IRateWindowStore), written once and run on each backend.</summary>
public abstract class RateWindowStoreTests<TBackend>(TBackend backend) : StoreSuite<TBackend>(backend) where TBackend : class, IStoreBackend
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private readonly CancellationToken _ct = CancellationToken.None;

    [Fact]
    public async Task a_rate_window_counts_all_or_nothing_and_rolls_over()
    {
        var scope = Unique("mint");
        var window = TimeSpan.FromMinutes(1);
        var a = await Store.RateWindows.TryConsumeRateAsync(scope, 10, window, 7, T0, _ct);
        Assert.True(a.Allowed);
        Assert.Equal(3, a.Remaining);
        Assert.Equal(T0.ToUnixTimeSeconds() / 60 * 60 + 60, a.WindowEnd);
        var b = await Store.RateWindows.TryConsumeRateAsync(scope, 10, window, 4, T0, _ct);
        Assert.False(b.Allowed);
        Assert.Equal(7, b.Used);
        Assert.True((await Store.RateWindows.TryConsumeRateAsync(scope, 10, window, 3, T0, _ct)).Allowed);
        Assert.Equal(10, (await Store.RateWindows.PeekRateAsync(scope, 10, window, T0, _ct)).Used);
        Assert.True((await Store.RateWindows.TryConsumeRateAsync(scope, 10, window, 4, T0.AddMinutes(1), _ct)).Allowed);
        Assert.False((await Store.RateWindows.TryConsumeRateAsync(scope, 10, window, 11, T0.AddMinutes(2), _ct)).Allowed);
        Assert.Equal(0, (await Store.RateWindows.PeekRateAsync(scope, 10, window, T0.AddMinutes(2), _ct)).Used);
    }

    [Fact]
    public async Task concurrent_consumers_never_exceed_a_rate_limit()
    {
        var scope = Unique("burst");
        var decisions = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ =>
            Task.Run(() => Store.RateWindows.TryConsumeRateAsync(scope, 10, TimeSpan.FromMinutes(1), 1, T0, _ct))));
        Assert.Equal(10, decisions.Count(d => d.Allowed));
        Assert.Equal(10, (await Store.RateWindows.PeekRateAsync(scope, 10, TimeSpan.FromMinutes(1), T0, _ct)).Used);
    }
}

public sealed class SqliteRateWindowStoreTests(SqliteBackend backend) : RateWindowStoreTests<SqliteBackend>(backend);

public sealed class PostgresRateWindowStoreTests(PostgresBackend backend) : RateWindowStoreTests<PostgresBackend>(backend);
