using System.Data.Common;
using Dapper;
using OpenMint.Core.RateLimits;

namespace OpenMint.Storage.RateLimits;

/// <summary>Fixed-window limits in table rate_window, shared by every instance using the database.</summary>
internal sealed class RateWindowStore(Database db) : IRateWindowStore
{
    /// <summary>
    /// Counts @amount against (@scope, @start) when the total stays within @limit, returning the new total, or no row.
    /// The conditional upsert both checks and counts in one statement: no read-modify-write race between instances
    /// (PostgreSQL row lock; SQLite single writer). Intake runs it as a prepared statement of its writer.
    /// </summary>
    internal const string ConsumeSql =
        """
        INSERT INTO rate_window (scope, window_start, used) SELECT @scope, @start, @amount WHERE @amount <= @limit
        ON CONFLICT (scope, window_start) DO UPDATE SET used = rate_window.used + excluded.used
            WHERE rate_window.used + excluded.used <= @limit
        RETURNING used
        """;

    public Task<RateDecision> TryConsumeRateAsync(string scope, long limit, TimeSpan window, long amount, DateTimeOffset now, CancellationToken ct) =>
        db.InTransactionAsync((c, tx) => ConsumeAsync(c, tx, scope, limit, window, amount, now, ct), ct);

    public async Task<RateDecision> PeekRateAsync(string scope, long limit, TimeSpan window, DateTimeOffset now, CancellationToken ct)
    {
        var (start, end) = RateDecision.WindowBounds(window, now);
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var used = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT used FROM rate_window WHERE scope = @scope AND window_start = @start", new { scope, start }, cancellationToken: ct)).ConfigureAwait(false);
        return new RateDecision(true, limit, used ?? 0, start, end);
    }

    /// <summary>
    /// <see cref="TryConsumeRateAsync"/> inside a caller's store transaction (intake counts its window in the
    /// same transaction that stores the requests, so a refused request counts nothing).
    /// </summary>
    internal static async Task<RateDecision> ConsumeAsync(DbConnection c, DbTransaction tx,
        string scope, long limit, TimeSpan window, long amount, DateTimeOffset now, CancellationToken ct)
    {
        var (start, end) = RateDecision.WindowBounds(window, now);
        var used = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            ConsumeSql, new { scope, start, amount, limit }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (used is not null)
        {
            return new RateDecision(true, limit, used.Value, start, end);
        }
        var current = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT used FROM rate_window WHERE scope = @scope AND window_start = @start", new { scope, start }, tx, cancellationToken: ct)).ConfigureAwait(false);
        return new RateDecision(false, limit, current ?? 0, start, end);
    }
}
