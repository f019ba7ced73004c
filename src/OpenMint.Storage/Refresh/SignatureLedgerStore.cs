using Dapper;
using OpenMint.Core.Refresh;

namespace OpenMint.Storage.Refresh;

/// <summary>
/// <see cref="ISignatureLedger"/> over table <c>refresh_signature</c>, one SQL for both dialects: an insert that
/// does nothing on conflict, so two instances racing on one signature see exactly one first use.
/// </summary>
internal sealed class SignatureLedgerStore(Database db) : ISignatureLedger
{
    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(1);
    private long _nextPruneUnix;

    public async Task<bool> TryUseAsync(string signature, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken ct)
    {
        var nowUnix = now.ToUnixTimeSeconds();
        var prune = nowUnix >= Interlocked.Read(ref _nextPruneUnix);
        if (prune)
        {
            Interlocked.Exchange(ref _nextPruneUnix, nowUnix + (long)PruneEvery.TotalSeconds);
        }
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        if (prune)
        {
            await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM refresh_signature WHERE expires_at < @now", new { now = nowUnix }, cancellationToken: ct)).ConfigureAwait(false);
        }
        var inserted = await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO refresh_signature (signature, expires_at) VALUES (@signature, @expires) ON CONFLICT (signature) DO NOTHING",
            new { signature, expires = expiresAt.ToUnixTimeSeconds() }, cancellationToken: ct)).ConfigureAwait(false);
        return inserted == 1;
    }
}
