using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Tests;

public class MigrationTests
{
    [Fact]
    public async Task migrations_apply_once_and_tenancy_round_trips_on_a_sqlite_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"openmint-{Guid.NewGuid():N}.db");
        var store = await OpenMintStorage.OpenAsync("sqlite:" + path, CancellationToken.None);
        Assert.Empty(await store.Database.MigrateAsync(CancellationToken.None));
        await store.Tenancy.UpsertChainAsync(new ChainConfig("anvil", 31337, ["http://127.0.0.1:8545"], "env:X", 0, DateTimeOffset.UtcNow), CancellationToken.None);
        var chain = await store.Tenancy.GetChainAsync("anvil", CancellationToken.None);
        Assert.Equal(31337, chain!.ChainId);
        Assert.Equal(["http://127.0.0.1:8545"], chain.RpcUrls);
    }
}
