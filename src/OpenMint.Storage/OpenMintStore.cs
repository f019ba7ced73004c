namespace OpenMint.Storage;

/// <summary>
/// The store: one class over <see cref="Database"/>, split by area into partial files
/// (Tenancy, Mint, Refresh, Pipeline), each implementing that area's interface from Core.
/// SQL is written once for both dialects wherever it can be.
/// </summary>
public sealed partial class OpenMintStore(Database db)
{
    public Database Db { get; } = db;

    /// <summary>Opens the database named by <paramref name="value"/> and applies pending migrations.</summary>
    public static async Task<OpenMintStore> OpenAsync(string value, CancellationToken ct)
    {
        var db = Database.Open(value);
        await db.MigrateAsync(ct).ConfigureAwait(false);
        return new OpenMintStore(db);
    }
}
