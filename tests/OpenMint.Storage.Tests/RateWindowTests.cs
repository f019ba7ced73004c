namespace OpenMint.Storage.Tests;

public class RateWindowTests
{
    [Fact]
    public async Task a_fixed_window_counts_all_or_nothing_and_rolls_over()
    {
        var store = await OpenMintStorage.OpenAsync("sqlite:" + Path.Combine(Path.GetTempPath(), $"openmint-{Guid.NewGuid():N}.db"), CancellationToken.None);
        var t0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_040);
        var a = await store.RateWindows.TryConsumeRateAsync("mint:p", 10, TimeSpan.FromMinutes(1), 7, t0, CancellationToken.None);
        Assert.True(a.Allowed);
        Assert.Equal(3, a.Remaining);
        Assert.Equal(1_700_000_040 - 1_700_000_040 % 60 + 60, a.WindowEnd);
        var b = await store.RateWindows.TryConsumeRateAsync("mint:p", 10, TimeSpan.FromMinutes(1), 4, t0, CancellationToken.None);
        Assert.False(b.Allowed);
        Assert.Equal(7, b.Used);
        var c = await store.RateWindows.TryConsumeRateAsync("mint:p", 10, TimeSpan.FromMinutes(1), 3, t0, CancellationToken.None);
        Assert.True(c.Allowed);
        Assert.Equal(0, c.Remaining);
        var d = await store.RateWindows.TryConsumeRateAsync("mint:p", 10, TimeSpan.FromMinutes(1), 4, t0.AddMinutes(1), CancellationToken.None);
        Assert.True(d.Allowed);
        Assert.False((await store.RateWindows.TryConsumeRateAsync("mint:p", 10, TimeSpan.FromMinutes(1), 11, t0.AddMinutes(2), CancellationToken.None)).Allowed);
    }
}
