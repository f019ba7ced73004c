using System.Data.Common;
using System.Globalization;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.RateLimits;
using OpenMint.Storage.RateLimits;

namespace OpenMint.Storage.Minting;

/// <summary>
/// The intake writer's own connection and its prepared statements, reused across groups: binding a fresh
/// multi-row statement per request (or preparing per row) cost more than the durable commit itself.
/// The shared statements live here; how rows and id lists travel (multi-row VALUES on PostgreSQL, JSON unpacked by
/// json_each on SQLite) is the dialect's subclass.
/// </summary>
internal abstract class IntakeStatements(DbConnection connection, TimeProvider time) : IAsyncDisposable
{
    private readonly Dictionary<string, (DbCommand Command, DbParameter[] Parameters)> _commands = new(StringComparer.Ordinal);
    private Guid[] _eventIds = new Guid[128];

    public DbConnection Connection { get; } = connection;

    public DbTransaction Transaction { get; private set; } = null!;

    protected TimeProvider Time { get; } = time;

    /// <summary>Starts a group's transaction on the writer's statements (<paramref name="group"/>: the requests it will hold).</summary>
    public virtual Task BeginAsync(DbTransaction tx, IReadOnlyList<IntakeWork> group, CancellationToken ct)
    {
        Transaction = tx;
        foreach (var (command, _) in _commands.Values)
        {
            command.Transaction = tx;
        }
        return Task.CompletedTask;
    }

    protected (DbCommand Command, DbParameter[] Parameters) Command(string key, Func<string> sql, int parameterCount, string[]? names = null)
    {
        if (!_commands.TryGetValue(key, out var entry))
        {
            var command = Connection.CreateCommand();
            command.CommandText = sql();
            var parameters = new DbParameter[parameterCount];
            for (var i = 0; i < parameterCount; i++)
            {
                parameters[i] = command.CreateParameter();
                parameters[i].ParameterName = names?[i] ?? "@p" + i.ToString(CultureInfo.InvariantCulture);
                command.Parameters.Add(parameters[i]);
            }
            entry = (command, parameters);
            _commands[key] = entry;
        }
        entry.Command.Transaction = Transaction;
        return entry;
    }

    public Task ExecuteAsync(string sql, CancellationToken ct) => Command(sql, () => sql, 0).Command.ExecuteNonQueryAsync(ct);

    /// <summary>
    /// Ids for <paramref name="count"/> new rows, larger than every id committed before. SQLite: MAX(id) + 1 onwards, taken
    /// inside its one-writer-at-a-time transaction, so ids also grow in commit order.
    /// </summary>
    public virtual async Task<RowIds> TakeIdsAsync(int count, CancellationToken ct)
    {
        var (command, _) = Command("next-id", () => "SELECT COALESCE(MAX(id), 0) + 1 FROM mint_request", 0);
        return new RowIds(Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture), null);
    }

    /// <summary><see cref="RateWindowStore"/>'s conditional upsert as a prepared statement of the writer (the rare refusal reads through Dapper).</summary>
    public async Task<(bool Allowed, MintQuota Quota)> ConsumeRateAsync(string scope, long limit, long amount, CancellationToken ct)
    {
        var window = MintIntakePolicy.RateWindow;
        var now = Time.GetUtcNow();
        var (start, end) = RateDecision.WindowBounds(window, now);
        var (command, p) = Command("rate", () => RateWindowStore.ConsumeSql, 4, ["@scope", "@start", "@amount", "@limit"]);
        p[0].Value = scope;
        p[1].Value = start;
        p[2].Value = amount;
        p[3].Value = limit;
        var used = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        if (used is not null and not DBNull)
        {
            return (true, new MintQuota(limit, Convert.ToInt64(used, CultureInfo.InvariantCulture), DateTimeOffset.FromUnixTimeSeconds(end)));
        }
        var refused = await RateWindowStore.ConsumeAsync(Connection, Transaction, scope, limit, window, amount, now, ct).ConfigureAwait(false);
        return (refused.Allowed, new MintQuota(refused.Limit, refused.Used, DateTimeOffset.FromUnixTimeSeconds(refused.WindowEnd)));
    }

    /// <summary>Deletes the replaced failed requests (their creation payloads are written out first by the caller).</summary>
    public Task DeleteFailedAsync(SqlDialect dialect, long[] ids, CancellationToken ct) =>
        Connection.ExecuteAsync(new CommandDefinition(DeleteFailedSql(dialect), new { ids = dialect.List(ids) }, Transaction, cancellationToken: ct));

    /// <summary>The listed ids (<c>@ids</c>) that are failed requests, looked up by id (status kept from choosing the queue index).</summary>
    internal static string DeleteFailedSql(SqlDialect dialect) =>
        $"DELETE FROM mint_request WHERE {dialect.In("id", "@ids")} AND {dialect.NoIndex("status")} = 'failed'";

    /// <summary>Existing requests of the collection holding one of the request's reference ids.</summary>
    public abstract Task<List<ExistingReference>> ExistingReferencesAsync(long collectionId, IntakeWork work, CancellationToken ct);

    /// <summary>Pending or succeeded requests for the checked token ids, and tokens already known; one statement.</summary>
    public abstract Task<(List<RequestedToken> Requested, List<string> Minted)> ExistingTokensAsync(long collectionId, IntakeWork work, CancellationToken ct);

    /// <summary>
    /// Inserts the rows of <paramref name="works"/> (in order) with <paramref name="ids"/>; a row whose reference id exists is
    /// skipped. Returns the rows inserted.
    /// </summary>
    public abstract Task<int> InsertAsync(IReadOnlyList<IntakeWork> works, RowIds ids, CancellationToken ct);

    /// <summary>
    /// The group path's insert (<see cref="IntakeTransaction.AcceptGroupAsync"/>): like <see cref="InsertAsync"/>, but a dialect
    /// may throw on a taken reference or token id instead of skipping the row (the caller rolls the group back either way).
    /// PostgreSQL does: a plain INSERT costs about half of one with <c>ON CONFLICT</c>, which checks every unique index first.
    /// </summary>
    public virtual Task<int> InsertAllAsync(IReadOnlyList<IntakeWork> works, RowIds ids, CancellationToken ct) => InsertAsync(works, ids, ct);

    /// <summary>True when a checked token id of one of the requests has a pending or succeeded request, or a known token.</summary>
    public abstract Task<bool> AnyTokenTakenAsync(IReadOnlyList<IntakeWork> works, CancellationToken ct);

    /// <summary>
    /// One creation event per row of <paramref name="works"/> (ids as inserted), uuid v7 ids taken here in commit order,
    /// one statement per run of requests of the same project. No payload: <see cref="Events.MintEventStore"/> rebuilds a
    /// creation event's payload from its row.
    /// </summary>
    public async Task AppendCreationEventsAsync(IReadOnlyList<IntakeWork> works, RowIds ids, CancellationToken ct)
    {
        var offset = 0;
        for (var i = 0; i < works.Count;)
        {
            var projectId = works[i].Intake.Collection.ProjectId;
            var count = 0;
            for (; i < works.Count && works[i].Intake.Collection.ProjectId == projectId; i++)
            {
                count += works[i].Records.Length;
            }
            await AppendCreationEventsAsync(projectId, ids, offset, count, ct).ConfigureAwait(false);
            offset += count;
        }
    }

    /// <summary>Creation events for the rows <paramref name="offset"/> .. +<paramref name="count"/> of <paramref name="ids"/>, all of one project.</summary>
    protected abstract Task AppendCreationEventsAsync(string projectId, RowIds ids, int offset, int count, CancellationToken ct);

    /// <summary>A whole request's event ids, under one lock with one random-number call, in a reused buffer.</summary>
    protected ReadOnlySpan<Guid> NewEventIds(int count)
    {
        if (_eventIds.Length < count)
        {
            _eventIds = new Guid[count];
        }
        var ids = _eventIds.AsSpan(0, count);
        UuidV7.Fill(ids, Time);
        return ids;
    }

    protected static void AddRow(List<RequestedToken> requested, List<string> minted, string tokenId, string status)
    {
        if (status == "minted")
        {
            minted.Add(tokenId);
        }
        else
        {
            requested.Add(new RequestedToken(tokenId, MintStatusNames.Parse(status)));
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var (command, _) in _commands.Values)
        {
            await command.DisposeAsync().ConfigureAwait(false);
        }
        await Connection.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>The ids of a group's new rows: <see cref="First"/> onwards when <see cref="Each"/> is null, else one per row.</summary>
internal readonly record struct RowIds(long First, long[]? Each)
{
    public long this[int row] => Each is null ? First + row : Each[row];

    /// <summary>The ids from row <paramref name="offset"/> on.</summary>
    public RowIds From(int offset) => Each is null ? new RowIds(First + offset, null) : new RowIds(0, Each[offset..]);
}
