using Dapper;

namespace OpenMint.Storage;

/// <summary>What one attempt to use a fixed-window limit came to.</summary>
/// <param name="Allowed">True when the amount was counted; false when it would exceed the limit (nothing counted).</param>
/// <param name="Used">Units used in the window after this attempt.</param>
/// <param name="WindowStart">Start of the window (unix seconds).</param>
/// <param name="WindowEnd">When the window rolls over (unix seconds).</param>
public sealed record RateDecision(bool Allowed, long Limit, long Used, long WindowStart, long WindowEnd)
{
    public long Remaining => Math.Max(0, Limit - Used);
}

public sealed partial class OpenMintStore
{
    /// <summary>
    /// Fixed-window limiter shared by every instance through the store: counts <paramref name="amount"/>
    /// against <paramref name="scope"/> in the window containing <paramref name="now"/>, all or nothing.
    /// </summary>
    public async Task<RateDecision> TryConsumeRateAsync(string scope, long limit, TimeSpan window, long amount, DateTimeOffset now, CancellationToken ct)
    {
        return await Db.InTransactionAsync((c, tx) => ConsumeRateAsync(c, tx, scope, limit, window, amount, now, ct), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="TryConsumeRateAsync"/> inside a caller's store transaction (intake counts its window in the
    /// same transaction that stores the requests, so a refused request counts nothing).
    /// </summary>
    internal static async Task<RateDecision> ConsumeRateAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx,
        string scope, long limit, TimeSpan window, long amount, DateTimeOffset now, CancellationToken ct)
    {
        var (start, end) = RateWindowBounds(window, now);
        var used = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            ConsumeRateSql, new { scope, start, amount, limit }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (used is not null)
        {
            return new RateDecision(true, limit, used.Value, start, end);
        }
        var current = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT used FROM rate_window WHERE scope = @scope AND window_start = @start", new { scope, start }, tx, cancellationToken: ct)).ConfigureAwait(false);
        return new RateDecision(false, limit, current ?? 0, start, end);
    }

    /// <summary>
    /// Counts @amount against (@scope, @start) when the total stays within @limit, returning the new total, or no row.
    /// The conditional upsert both checks and counts in one statement: no read-modify-write race between instances
    /// (PostgreSQL row lock; SQLite single writer). Intake runs it as a prepared statement of its writer.
    /// </summary>
    internal const string ConsumeRateSql =
        """
        INSERT INTO rate_window (scope, window_start, used) SELECT @scope, @start, @amount WHERE @amount <= @limit
        ON CONFLICT (scope, window_start) DO UPDATE SET used = rate_window.used + excluded.used
            WHERE rate_window.used + excluded.used <= @limit
        RETURNING used
        """;

    /// <summary>The fixed window (unix seconds) that contains <paramref name="now"/>.</summary>
    internal static (long Start, long End) RateWindowBounds(TimeSpan window, DateTimeOffset now)
    {
        var seconds = (long)window.TotalSeconds;
        var start = now.ToUnixTimeSeconds() / seconds * seconds;
        return (start, start + seconds);
    }

    /// <summary>Reads a window without counting (for headers on requests that do not consume).</summary>
    public async Task<RateDecision> PeekRateAsync(string scope, long limit, TimeSpan window, DateTimeOffset now, CancellationToken ct)
    {
        var seconds = (long)window.TotalSeconds;
        var start = now.ToUnixTimeSeconds() / seconds * seconds;
        await using var c = await Db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var used = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT used FROM rate_window WHERE scope = @scope AND window_start = @start", new { scope, start }, cancellationToken: ct)).ConfigureAwait(false);
        return new RateDecision(true, limit, used ?? 0, start, start + seconds);
    }
}
