using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage;

/// <summary>Minting API intake and reads (IMintStore). Private members carry an "Intake" prefix: the class is shared by several partial files.</summary>
public sealed partial class OpenMintStore : IMintStore
{
    private const string IntakeRequestColumns =
        "id AS Id, collection_id AS CollectionId, project_id AS ProjectId, reference_id AS ReferenceId, owner_address AS OwnerAddress, " +
        "token_id AS TokenId, by_quantity AS ByQuantity, amount AS Amount, metadata AS MetadataJson, status AS Status, " +
        "error_message AS ErrorMessage, transaction_hash AS TransactionHash, activity_id AS ActivityId, batch_id AS BatchId, " +
        "created_at AS CreatedAt, updated_at AS UpdatedAt";

    /// <summary>The rate-limit scope of a project's mints (shared with every instance through rate_window).</summary>
    public static string MintRateScope(string projectId) => "mint:" + projectId;

    /// <summary>Most requests one group commit takes together, and most assets.</summary>
    private const int IntakeGroupMaxRequests = 64;
    private const int IntakeGroupMaxAssets = 6400;

    private readonly Channel<IntakeWork> _intakeQueue = Channel.CreateUnbounded<IntakeWork>(new UnboundedChannelOptions { SingleReader = true });
    private int _intakeWriterStarted;

    private sealed record IntakeWork(MintIntake Intake, TaskCompletionSource<MintIntakeOutcome> Done, CancellationToken Ct);

    /// <summary>
    /// Group commit: concurrent create requests queue here and one writer stores as many as are waiting in a
    /// single transaction (each inside its own savepoint), so one durable commit answers many requests.
    /// Nobody is answered before the commit that holds their rows has returned.
    /// </summary>
    public Task<MintIntakeOutcome> AcceptMintRequestsAsync(MintIntake intake, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _intakeWriterStarted, 1) == 0)
        {
            _ = Task.Run(IntakeWriterLoopAsync, CancellationToken.None);
        }
        var work = new IntakeWork(intake, new TaskCompletionSource<MintIntakeOutcome>(TaskCreationOptions.RunContinuationsAsynchronously), ct);
        if (!_intakeQueue.Writer.TryWrite(work))
        {
            throw new InvalidOperationException("the intake queue is closed");
        }
        return work.Done.Task;
    }

    private async Task IntakeWriterLoopAsync()
    {
        var reader = _intakeQueue.Reader;
        var group = new List<IntakeWork>(IntakeGroupMaxRequests);
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            group.Clear();
            var assets = 0;
            while (group.Count < IntakeGroupMaxRequests && assets < IntakeGroupMaxAssets && reader.TryRead(out var work))
            {
                if (work.Ct.IsCancellationRequested)
                {
                    work.Done.TrySetCanceled(work.Ct);
                    continue;
                }
                group.Add(work);
                assets += work.Intake.Assets.Count;
            }
            if (group.Count > 0)
            {
                await IntakeCommitGroupAsync(group).ConfigureAwait(false);
            }
        }
    }

    private async Task IntakeCommitGroupAsync(List<IntakeWork> group)
    {
        var outcomes = new MintIntakeOutcome?[group.Count];
        try
        {
            // The clients may give up while we write; the group commits regardless (their rows are valid intake).
            await Db.InTransactionAsync(async (c, tx) =>
            {
                if (Db.Dialect == SqlDialect.Sqlite)
                {
                    // Six indexes on mint_request: a larger page cache keeps their hot pages in the pooled connection.
                    await c.ExecuteAsync(new CommandDefinition("PRAGMA cache_size = -65536", transaction: tx)).ConfigureAwait(false);
                }
                await using var writer = new IntakeWriter(c, tx, Db.Dialect, TimeProvider.System);
                for (var i = 0; i < group.Count; i++)
                {
                    await c.ExecuteAsync(new CommandDefinition("SAVEPOINT intake", transaction: tx)).ConfigureAwait(false);
                    try
                    {
                        outcomes[i] = await AcceptInTransactionAsync(c, tx, writer, group[i].Intake, TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
                        await c.ExecuteAsync(new CommandDefinition("RELEASE SAVEPOINT intake", transaction: tx)).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is DbException or InvalidOperationException or FormatException)
                    {
                        // One bad request must not sink the others in its group.
                        await c.ExecuteAsync(new CommandDefinition("ROLLBACK TO SAVEPOINT intake", transaction: tx)).ConfigureAwait(false);
                        await c.ExecuteAsync(new CommandDefinition("RELEASE SAVEPOINT intake", transaction: tx)).ConfigureAwait(false);
                        group[i].Done.TrySetException(ex);
                    }
                }
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            foreach (var work in group)
            {
                work.Done.TrySetException(ex);
            }
            return;
        }
        for (var i = 0; i < group.Count; i++)
        {
            if (outcomes[i] is { } outcome)
            {
                group[i].Done.TrySetResult(outcome);
            }
        }
    }

    /// <summary>
    /// The whole intake of one request inside a caller's transaction. Returns without writing anything
    /// when the outcome is not Accepted (every check happens before the first write).
    /// </summary>
    private static async Task<MintIntakeOutcome> AcceptInTransactionAsync(DbConnection c, DbTransaction tx, IntakeWriter writer, MintIntake intake, TimeProvider time, CancellationToken ct)
    {
        var collection = intake.Collection;
        var assets = intake.Assets;
        var referenceIds = assets.Select(a => a.ReferenceId).ToArray();

        var existing = (await c.QueryAsync<(long Id, string ReferenceId, string Status)>(new CommandDefinition(
            "SELECT id, reference_id, status FROM mint_request WHERE collection_id = @collectionId AND reference_id IN @referenceIds",
            new { collectionId = collection.Id, referenceIds }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var taken = existing.Where(e => e.Status != "failed").Select(e => e.ReferenceId).ToList();
        if (taken.Count > 0)
        {
            var ordered = referenceIds.Where(taken.Contains).ToList();
            return new MintIntakeOutcome.Conflict($"there are already mint requests for reference_ids: {string.Join(", ", ordered)}", "reference_id", ordered);
        }

        var conflict = await IntakeTokenConflictAsync(c, tx, collection, assets, ct).ConfigureAwait(false);
        if (conflict is not null)
        {
            return conflict;
        }

        var now = time.GetUtcNow();
        var quota = await IntakeConsumeRateAsync(c, tx, MintRateScope(collection.ProjectId), intake.RateLimitPerMinute, intake.RateUnits, now, ct).ConfigureAwait(false);
        if (quota.Allowed is false)
        {
            return new MintIntakeOutcome.RateLimited(quota.Quota);
        }

        // Ids are taken before the failed rows are removed, so an id is never handed out twice
        // and a cursor never sees a new row appear behind it.
        var nextId = await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM mint_request", transaction: tx, cancellationToken: ct)).ConfigureAwait(false);
        if (existing.Count > 0)
        {
            // A failed request's reference id may be used again: the new request replaces the failed record.
            await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM mint_request WHERE id IN @ids AND status = 'failed'",
                new { ids = existing.Select(e => e.Id).ToArray() }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }

        var records = new MintRequestRecord[assets.Count];
        for (var i = 0; i < assets.Count; i++)
        {
            var a = assets[i];
            records[i] = new MintRequestRecord(nextId + i, collection.Id, collection.ProjectId, a.ReferenceId, a.OwnerAddress, a.TokenId,
                a.TokenId is null, a.Amount, a.MetadataJson, MintStatus.Pending, null, null, null, null, now, now);
        }
        foreach (var record in records)
        {
            await writer.InsertAsync(record, ct).ConfigureAwait(false);
        }
        foreach (var record in records)
        {
            await writer.Events.AppendAsync(record, collection, intake.Chain, ct).ConfigureAwait(false);
        }
        return new MintIntakeOutcome.Accepted(quota.Quota);
    }

    private static async Task<MintIntakeOutcome.Conflict?> IntakeTokenConflictAsync(DbConnection c, DbTransaction tx, Collection collection, IReadOnlyList<MintAsset> assets, CancellationToken ct)
    {
        var checkedAssets = collection.Kind == CollectionKind.Erc721
            ? assets.Where(a => a.TokenId is not null)
            : assets.Where(a => a.TokenId is not null && a.MetadataJson is not null); // ERC1155: only metadata on an existing id conflicts
        var tokenIds = checkedAssets.Select(a => a.TokenId!).Distinct(StringComparer.Ordinal).ToArray();
        if (tokenIds.Length == 0)
        {
            return null;
        }
        var requested = (await c.QueryAsync<(string TokenId, string Status)>(new CommandDefinition(
            "SELECT token_id, status FROM mint_request WHERE collection_id = @collectionId AND token_id IN @tokenIds AND status IN ('pending', 'succeeded')",
            new { collectionId = collection.Id, tokenIds }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var minted = (await c.QueryAsync<string>(new CommandDefinition(
            "SELECT token_id FROM token WHERE collection_id = @collectionId AND token_id IN @tokenIds",
            new { collectionId = collection.Id, tokenIds }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        minted.UnionWith(requested.Where(r => r.Status == "succeeded").Select(r => r.TokenId));

        if (minted.Count > 0)
        {
            var values = tokenIds.Where(minted.Contains).ToList();
            var suffix = collection.Kind == CollectionKind.Erc1155 ? ", no metadata allowed" : "";
            return new MintIntakeOutcome.Conflict($"token_ids already minted: {string.Join(", ", values)}{suffix}", "token_id", values);
        }
        if (collection.Kind == CollectionKind.Erc721)
        {
            var pending = requested.Select(r => r.TokenId).ToHashSet(StringComparer.Ordinal);
            if (pending.Count > 0)
            {
                var values = tokenIds.Where(pending.Contains).ToList();
                return new MintIntakeOutcome.Conflict($"there are already mint requests for token_ids: {string.Join(", ", values)}", "token_id", values);
            }
        }
        return null;
    }

    /// <summary>The fixed-window count of RateWindowStore, inside the intake transaction so a refused or conflicting request counts nothing.</summary>
    private static async Task<(bool Allowed, MintQuota Quota)> IntakeConsumeRateAsync(DbConnection c, DbTransaction tx, string scope, long limit, long amount, DateTimeOffset now, CancellationToken ct)
    {
        var start = now.ToUnixTimeSeconds() / 60 * 60;
        var end = DateTimeOffset.FromUnixTimeSeconds(start + 60);
        var used = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            """
            INSERT INTO rate_window (scope, window_start, used) SELECT @scope, @start, @amount WHERE @amount <= @limit
            ON CONFLICT (scope, window_start) DO UPDATE SET used = rate_window.used + excluded.used
                WHERE rate_window.used + excluded.used <= @limit
            RETURNING used
            """,
            new { scope, start, amount, limit }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (used is not null)
        {
            return (true, new MintQuota(limit, used.Value, end));
        }
        var current = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT used FROM rate_window WHERE scope = @scope AND window_start = @start", new { scope, start }, tx, cancellationToken: ct)).ConfigureAwait(false);
        return (false, new MintQuota(limit, current ?? 0, end));
    }

    /// <summary>
    /// The statements one intake transaction writes with, prepared once and reused for every row
    /// (binding a fresh 1,000-parameter statement per request cost more than the commit).
    /// </summary>
    private sealed class IntakeWriter : IAsyncDisposable
    {
        private readonly DbCommand _insert;
        private readonly DbParameter[] _p;
        private readonly bool _sqlite;

        public IntakeWriter(DbConnection c, DbTransaction tx, SqlDialect dialect, TimeProvider time)
        {
            _sqlite = dialect == SqlDialect.Sqlite;
            _insert = c.CreateCommand();
            _insert.Transaction = tx;
            _insert.CommandText =
                "INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at) " +
                "VALUES (@id, @collectionId, @projectId, @referenceId, @ownerAddress, @tokenId, @byQuantity, @amount, @metadata, 'pending', @createdAt, @createdAt)";
            _p = new[] { "@id", "@collectionId", "@projectId", "@referenceId", "@ownerAddress", "@tokenId", "@byQuantity", "@amount", "@metadata", "@createdAt" }.Select(name =>
            {
                var p = _insert.CreateParameter();
                p.ParameterName = name;
                _insert.Parameters.Add(p);
                return p;
            }).ToArray();
            Events = new MintEventAppender(c, tx, time);
        }

        public MintEventAppender Events { get; }

        public Task InsertAsync(MintRequestRecord r, CancellationToken ct)
        {
            _p[0].Value = r.Id;
            _p[1].Value = r.CollectionId;
            _p[2].Value = r.ProjectId;
            _p[3].Value = r.ReferenceId;
            _p[4].Value = r.OwnerAddress;
            _p[5].Value = (object?)r.TokenId ?? DBNull.Value;
            _p[6].Value = _sqlite ? (r.ByQuantity ? 1 : 0) : r.ByQuantity;
            _p[7].Value = (object?)r.Amount ?? DBNull.Value;
            _p[8].Value = (object?)r.MetadataJson ?? DBNull.Value;
            _p[9].Value = Time.ToWire(r.CreatedAt);
            return _insert.ExecuteNonQueryAsync(ct);
        }

        public async ValueTask DisposeAsync()
        {
            await _insert.DisposeAsync().ConfigureAwait(false);
            await Events.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async Task<MintRequestRecord?> GetMintRequestAsync(long collectionId, string referenceId, CancellationToken ct)
    {
        await using var c = await Db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<IntakeRequestRow>(new CommandDefinition(
            $"SELECT {IntakeRequestColumns} FROM mint_request WHERE collection_id = @collectionId AND reference_id = @referenceId",
            new { collectionId, referenceId }, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToModel();
    }

    public async Task<MintRequestPage> ListMintRequestsAsync(long collectionId, MintStatus? status, string? cursor, int pageSize, CancellationToken ct)
    {
        var (newer, anchor) = cursor is null ? (false, long.MaxValue) : IntakeDecodeCursor(cursor);
        var statusText = status?.ToWire();
        const string Filter = "collection_id = @collectionId AND (@status IS NULL OR status = @status)";
        await using var c = await Db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var sql = newer
            ? $"SELECT {IntakeRequestColumns} FROM mint_request WHERE {Filter} AND id > @anchor ORDER BY id ASC LIMIT @take"
            : $"SELECT {IntakeRequestColumns} FROM mint_request WHERE {Filter} AND id < @anchor ORDER BY id DESC LIMIT @take";
        var rows = (await c.QueryAsync<IntakeRequestRow>(new CommandDefinition(sql,
            new { collectionId, status = statusText, anchor, take = pageSize + 1 }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var more = rows.Count > pageSize;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }
        if (newer)
        {
            rows.Reverse();
        }
        var items = rows.Select(r => r.ToModel()).ToList();
        if (items.Count == 0)
        {
            // An empty page still lets the client turn back the way it came.
            return new MintRequestPage(items, newer || cursor is null ? null : IntakeEncodeCursor(true, anchor == long.MaxValue ? 0 : anchor - 1), newer ? IntakeEncodeCursor(false, anchor + 1) : null);
        }
        var first = items[0].Id;
        var last = items[^1].Id;
        bool hasNewer, hasOlder;
        if (newer)
        {
            hasNewer = more;
            hasOlder = await IntakeExistsAsync(c, $"SELECT 1 FROM mint_request WHERE {Filter} AND id < @id LIMIT 1", collectionId, statusText, last, ct).ConfigureAwait(false);
        }
        else
        {
            hasOlder = more;
            hasNewer = cursor is not null && await IntakeExistsAsync(c, $"SELECT 1 FROM mint_request WHERE {Filter} AND id > @id LIMIT 1", collectionId, statusText, first, ct).ConfigureAwait(false);
        }
        return new MintRequestPage(items, hasNewer ? IntakeEncodeCursor(true, first) : null, hasOlder ? IntakeEncodeCursor(false, last) : null);
    }

    private static async Task<bool> IntakeExistsAsync(DbConnection c, string sql, long collectionId, string? status, long id, CancellationToken ct) =>
        await c.ExecuteScalarAsync<long?>(new CommandDefinition(sql, new { collectionId, status, id }, cancellationToken: ct)).ConfigureAwait(false) is not null;

    /// <summary>Cursors name a row id and a direction: rows only ever get larger ids, so pages stay put under inserts.</summary>
    private static string IntakeEncodeCursor(bool newer, long id) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes((newer ? "p:" : "n:") + id.ToString(CultureInfo.InvariantCulture)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (bool Newer, long Id) IntakeDecodeCursor(string cursor)
    {
        try
        {
            var b64 = cursor.Replace('-', '+').Replace('_', '/');
            b64 += new string('=', (4 - b64.Length % 4) % 4);
            var text = Encoding.ASCII.GetString(Convert.FromBase64String(b64));
            if (text.Length > 2 && (text[0] == 'p' || text[0] == 'n') && text[1] == ':'
                && long.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                return (text[0] == 'p', id);
            }
        }
        catch (FormatException)
        {
        }
        throw new FormatException("page_cursor is not a cursor returned by this API");
    }

    public async Task<TokenRecord?> GetTokenAsync(long collectionId, string tokenId, CancellationToken ct)
    {
        await using var c = await Db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<IntakeTokenRow>(new CommandDefinition(
            """
            SELECT collection_id AS CollectionId, token_id AS TokenId, owner_address AS OwnerAddress, metadata AS MetadataJson,
                   metadata_synced_at AS MetadataSyncedAt, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM token WHERE collection_id = @collectionId AND token_id = @tokenId
            """,
            new { collectionId, tokenId }, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToModel();
    }

    private sealed class IntakeRequestRow
    {
        public long Id { get; set; }
        public long CollectionId { get; set; }
        public string ProjectId { get; set; } = "";
        public string ReferenceId { get; set; } = "";
        public string OwnerAddress { get; set; } = "";
        public string? TokenId { get; set; }
        public bool ByQuantity { get; set; }
        public string? Amount { get; set; }
        public string? MetadataJson { get; set; }
        public string Status { get; set; } = "";
        public string? ErrorMessage { get; set; }
        public string? TransactionHash { get; set; }
        public string? ActivityId { get; set; }
        public long? BatchId { get; set; }
        public string CreatedAt { get; set; } = "";
        public string UpdatedAt { get; set; } = "";

        public MintRequestRecord ToModel() => new(Id, CollectionId, ProjectId, ReferenceId, OwnerAddress, TokenId, ByQuantity, Amount, MetadataJson,
            MintStatusNames.Parse(Status), ErrorMessage, TransactionHash, ActivityId, BatchId, Time.FromWire(CreatedAt), Time.FromWire(UpdatedAt));
    }

    private sealed class IntakeTokenRow
    {
        public long CollectionId { get; set; }
        public string TokenId { get; set; } = "";
        public string? OwnerAddress { get; set; }
        public string? MetadataJson { get; set; }
        public string? MetadataSyncedAt { get; set; }
        public string CreatedAt { get; set; } = "";
        public string UpdatedAt { get; set; } = "";

        public TokenRecord ToModel() => new(CollectionId, TokenId, OwnerAddress, MetadataJson,
            MetadataSyncedAt is null ? null : Time.FromWire(MetadataSyncedAt), Time.FromWire(CreatedAt), Time.FromWire(UpdatedAt));
    }
}
