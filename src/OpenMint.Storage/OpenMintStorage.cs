using OpenMint.Core.Events;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.RateLimits;
using OpenMint.Core.Refresh;
using OpenMint.Core.Tenancy;
using OpenMint.Core.Webhooks;
using OpenMint.Storage.Events;
using OpenMint.Storage.Minting;
using OpenMint.Storage.Operators;
using OpenMint.Storage.Pipeline;
using OpenMint.Storage.RateLimits;
using OpenMint.Storage.Refresh;
using OpenMint.Storage.Tenancy;
using OpenMint.Storage.Webhooks;

namespace OpenMint.Storage;

/// <summary>
/// The store, opened and migrated: one store per area over one <see cref="Storage.Database"/>, each behind its Core
/// interface. Hosts register it with <see cref="StorageServices.AddOpenMintStorage(Microsoft.Extensions.DependencyInjection.IServiceCollection, OpenMintStorage)"/>;
/// the CLI and <c>openmint dev</c> open it directly and dispose it when done (which drains intake and closes the database).
/// </summary>
public sealed class OpenMintStorage : IAsyncDisposable
{
    private OpenMintStorage(Database database, TimeProvider time)
    {
        Database = database;
        IntakeWriter = new IntakeWriter(database, time);
        Tenancy = new TenancyStore(database, time);
        Minting = new MintStore(database, IntakeWriter, time);
        Pipeline = new PipelineStore(database, time);
        Refresh = new RefreshStore(database);
        RateWindows = new RateWindowStore(database);
        Events = new MintEventStore(database, Tenancy);
        Signatures = new SignatureLedgerStore(database);
        Webhooks = new WebhookStore(database);
        Operators = new OperatorTokenStore(database, time);
    }

    public Database Database { get; }

    public ITenancyStore Tenancy { get; }

    public IMintStore Minting { get; }

    public IPipelineStore Pipeline { get; }

    public IRefreshStore Refresh { get; }

    public IRateWindowStore RateWindows { get; }

    public IMintEventStore Events { get; }

    public ISignatureLedger Signatures { get; }

    public IWebhookStore Webhooks { get; }

    /// <summary>Operator tokens: the dashboard's sign-in.</summary>
    public OperatorTokenStore Operators { get; }

    /// <summary>Intake's group-commit writer: a hosted service in a host, started and stopped by this object otherwise.</summary>
    internal IntakeWriter IntakeWriter { get; }

    /// <summary>Opens the database named by <paramref name="value"/>, applies pending migrations and starts the intake writer.</summary>
    public static async Task<OpenMintStorage> OpenAsync(string value, CancellationToken ct) => await OpenAsync(value, TimeProvider.System, ct).ConfigureAwait(false);

    /// <inheritdoc cref="OpenAsync(string, CancellationToken)"/>
    public static async Task<OpenMintStorage> OpenAsync(string value, TimeProvider time, CancellationToken ct)
    {
        var database = Database.Open(value, time);
        try
        {
            await database.MigrateAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await database.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var storage = new OpenMintStorage(database, time);
        await storage.IntakeWriter.StartAsync(ct).ConfigureAwait(false);
        return storage;
    }

    /// <summary>Finishes every accepted intake request, then closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        await IntakeWriter.DisposeAsync().ConfigureAwait(false);
        await Database.DisposeAsync().ConfigureAwait(false);
    }
}
