using Microsoft.Extensions.DependencyInjection;
using OpenMint.Core.Events;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.RateLimits;
using OpenMint.Core.Refresh;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage;

public static class StorageServices
{
    /// <summary>
    /// Registers every area interface of <paramref name="storage"/>, its <see cref="Database"/>, and intake's writer as a
    /// hosted service. Call it before other hosted services are added: services stop in reverse order, so the writer
    /// stops after the endpoints that feed it and still commits everything they accepted.
    /// </summary>
    public static IServiceCollection AddOpenMintStorage(this IServiceCollection services, OpenMintStorage storage)
    {
        services.AddSingleton(storage);
        services.AddSingleton(storage.Database);
        services.AddSingleton(storage.Tenancy);
        services.AddSingleton(storage.Minting);
        services.AddSingleton(storage.Pipeline);
        services.AddSingleton(storage.Refresh);
        services.AddSingleton(storage.RateWindows);
        services.AddSingleton(storage.Events);
        services.AddSingleton(storage.Signatures);
        services.AddSingleton(storage.Webhooks);
        services.AddSingleton(storage.Operators);
        services.AddSingleton(storage.IntakeWriter);
        services.AddHostedService(sp => sp.GetRequiredService<Minting.IntakeWriter>());
        return services;
    }

    /// <summary>
    /// Opens (and migrates) the database named by <paramref name="databaseValue"/> and registers it as
    /// <see cref="AddOpenMintStorage(IServiceCollection, OpenMintStorage)"/> does; returns the opened storage.
    /// </summary>
    public static async Task<OpenMintStorage> AddOpenMintStorageAsync(this IServiceCollection services, string databaseValue, TimeProvider time, CancellationToken ct)
    {
        var storage = await OpenMintStorage.OpenAsync(databaseValue, time, ct).ConfigureAwait(false);
        services.AddOpenMintStorage(storage);
        return storage;
    }
}
