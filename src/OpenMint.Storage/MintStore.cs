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
    /// <summary>The rate-limit scope of a project's mints (shared with every instance through rate_window).</summary>
    public static string MintRateScope(string projectId) => "mint:" + projectId;

    /// <summary>Most requests one group commit takes together, and most assets.</summary>
    private const int IntakeGroupMaxRequests = 64;
    private const int IntakeGroupMaxAssets = 6400;

    private readonly Channel<IntakeWork> _intakeQueue = Channel.CreateUnbounded<IntakeWork>(new UnboundedChannelOptions { SingleReader = true });
    private int _intakeWriterStarted;

    /// <param name="Records">The rows to insert, built on the caller's thread (ids are assigned by the writer).</param>
    /// <param name="ReferenceIds">The request's reference ids, in request order.</param>
    /// <param name="CheckedTokenIds">The distinct token ids that may conflict with existing requests or tokens (ERC721: all given
    /// ids; ERC1155: ids given with metadata).</param>
    /// <param name="Sqlite">The statement parameters of the SQLite statements, serialised on the caller's thread so the single
    /// writer only binds them; null on PostgreSQL.</param>
    private sealed record IntakeWork(MintIntake Intake, MintRequestRecord[] Records, string[] ReferenceIds, string[] CheckedTokenIds,
        IntakeSqliteJson? Sqlite, TaskCompletionSource<MintIntakeOutcome> Done, CancellationToken Ct);

    /// <summary>JSON arrays that SQLite unpacks with json_each: the rows, the reference ids, the checked token ids.</summary>
    private sealed record IntakeSqliteJson(string Rows, string ReferenceIds, string TokenIds);

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
        var now = TimeProvider.System.GetUtcNow();
        var collection = intake.Collection;
        var assets = intake.Assets;
        var records = new MintRequestRecord[assets.Count];
        var referenceIds = new string[records.Length];
        for (var i = 0; i < records.Length; i++)
        {
            var a = assets[i];
            records[i] = new MintRequestRecord(0, collection.Id, collection.ProjectId, a.ReferenceId, a.OwnerAddress, a.TokenId,
                a.TokenId is null, a.Amount, a.MetadataJson, MintStatus.Pending, null, null, null, null, now, now);
            referenceIds[i] = a.ReferenceId;
        }
        var tokenIds = IntakeCheckedTokenIds(collection, assets);
        var sqlite = Db.Dialect == SqlDialect.Sqlite
            ? new IntakeSqliteJson(IntakeRowsJson(records), IntakeJsonArray(referenceIds), IntakeJsonArray(tokenIds))
            : null;
        var work = new IntakeWork(intake, records, referenceIds, tokenIds, sqlite,
            new TaskCompletionSource<MintIntakeOutcome>(TaskCreationOptions.RunContinuationsAsynchronously), ct);
        if (!_intakeQueue.Writer.TryWrite(work))
        {
            throw new InvalidOperationException("the intake queue is closed");
        }
        return work.Done.Task;
    }

    /// <summary>ERC721: every given token id may conflict; ERC1155: only metadata on an id that already exists does.</summary>
    private static string[] IntakeCheckedTokenIds(Collection collection, IReadOnlyList<MintAsset> assets)
    {
        var ids = new List<string>(assets.Count);
        HashSet<string>? seen = null;
        foreach (var a in assets)
        {
            if (a.TokenId is null || (collection.Kind == CollectionKind.Erc1155 && a.MetadataJson is null))
            {
                continue;
            }
            seen ??= new HashSet<string>(StringComparer.Ordinal);
            if (seen.Add(a.TokenId))
            {
                ids.Add(a.TokenId);
            }
        }
        return ids.ToArray();
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
                assets += work.Records.Length;
            }
            if (group.Count > 0)
            {
                await IntakeCommitGroupAsync(group).ConfigureAwait(false);
            }
        }
    }

    private IntakeWriter? _intakeWriter;

    private async Task IntakeCommitGroupAsync(List<IntakeWork> group)
    {
        var outcomes = new MintIntakeOutcome?[group.Count];
        try
        {
            // One connection with prepared statements lives as long as the writer loop; it is rebuilt after any failure.
            _intakeWriter ??= await IntakeWriter.OpenAsync(Db, TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
            var writer = _intakeWriter;
            // The clients may give up while we write; the group commits regardless (their rows are valid intake).
            await using var tx = await writer.Connection.BeginTransactionAsync(CancellationToken.None).ConfigureAwait(false);
            writer.Begin(tx);
            if (Db.Dialect == SqlDialect.Postgres)
            {
                // Instances sharing one PostgreSQL take turns, as SQLite's single writer does: ids (MAX + 1) stay unique
                // and increasing in commit order, and each group's duplicate checks see the rows the others committed.
                await writer.ExecuteAsync("SELECT pg_advisory_xact_lock(727275)").ConfigureAwait(false);
            }
            for (var i = 0; i < group.Count; i++)
            {
                await writer.ExecuteAsync("SAVEPOINT intake").ConfigureAwait(false);
                try
                {
                    var outcome = await IntakeAcceptFastAsync(writer, group[i], TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
                    if (outcome is null)
                    {
                        // A reference id is taken: undo the fast path's writes and decide with every lookup.
                        await writer.ExecuteAsync("ROLLBACK TO SAVEPOINT intake").ConfigureAwait(false);
                        outcome = await IntakeAcceptAsync(writer, group[i], TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
                    }
                    outcomes[i] = outcome;
                    await writer.ExecuteAsync("RELEASE SAVEPOINT intake").ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is DbException or InvalidOperationException or FormatException)
                {
                    // One bad request must not sink the others in its group.
                    await writer.ExecuteAsync("ROLLBACK TO SAVEPOINT intake").ConfigureAwait(false);
                    await writer.ExecuteAsync("RELEASE SAVEPOINT intake").ConfigureAwait(false);
                    outcomes[i] = null;
                    group[i].Done.TrySetException(ex);
                }
            }
            await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (_intakeWriter is not null)
            {
                await _intakeWriter.DisposeAsync().ConfigureAwait(false);
                _intakeWriter = null;
            }
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
    /// The common case, with one lookup less: no reference id of the request exists yet. The rows go in with
    /// <c>ON CONFLICT DO NOTHING</c>, so the unique index that the insert probes anyway is the reference check.
    /// Returns null when a reference id turned out to exist (the caller rolls back to its savepoint and runs
    /// <see cref="IntakeAcceptAsync"/>). Refusals check the reference ids first, so a 409 on a reference id still
    /// wins over a token conflict or the rate limit, exactly as in <see cref="IntakeAcceptAsync"/>.
    /// </summary>
    private static async Task<MintIntakeOutcome?> IntakeAcceptFastAsync(IntakeWriter writer, IntakeWork work, TimeProvider time, CancellationToken ct)
    {
        var intake = work.Intake;
        var collection = intake.Collection;
        var tokenConflict = await IntakeTokenConflictAsync(writer, work, ct).ConfigureAwait(false);
        if (tokenConflict is not null)
        {
            return await IntakeReferenceConflictAsync(writer, work, ct).ConfigureAwait(false) ?? (MintIntakeOutcome)tokenConflict;
        }
        var quota = await writer.ConsumeRateAsync(MintRateScope(collection.ProjectId), intake.RateLimitPerMinute, intake.RateUnits, time.GetUtcNow(), ct).ConfigureAwait(false);
        if (quota.Allowed is false)
        {
            return await IntakeReferenceConflictAsync(writer, work, ct).ConfigureAwait(false) ?? (MintIntakeOutcome)new MintIntakeOutcome.RateLimited(quota.Quota);
        }
        var firstId = await writer.NextIdAsync(ct).ConfigureAwait(false);
        if (await writer.InsertAsync(work, firstId, ct).ConfigureAwait(false) != work.Records.Length)
        {
            return null;
        }
        await writer.AppendCreationEventsAsync(collection.ProjectId, firstId, work.Records.Length, ct).ConfigureAwait(false);
        return new MintIntakeOutcome.Accepted(quota.Quota);
    }

    /// <summary>
    /// The whole intake of one request inside the group's transaction, when a reference id of it already exists.
    /// Returns without writing anything when the outcome is not Accepted (every check happens before the first write).
    /// </summary>
    private static async Task<MintIntakeOutcome> IntakeAcceptAsync(IntakeWriter writer, IntakeWork work, TimeProvider time, CancellationToken ct)
    {
        var intake = work.Intake;
        var collection = intake.Collection;
        var existing = await writer.ExistingReferencesAsync(collection.Id, work, ct).ConfigureAwait(false);
        var referenceConflict = IntakeReferenceConflict(work, existing);
        if (referenceConflict is not null)
        {
            return referenceConflict;
        }

        var conflict = await IntakeTokenConflictAsync(writer, work, ct).ConfigureAwait(false);
        if (conflict is not null)
        {
            return conflict;
        }

        var quota = await writer.ConsumeRateAsync(MintRateScope(collection.ProjectId), intake.RateLimitPerMinute, intake.RateUnits, time.GetUtcNow(), ct).ConfigureAwait(false);
        if (quota.Allowed is false)
        {
            return new MintIntakeOutcome.RateLimited(quota.Quota);
        }

        // Ids are taken before the failed rows are removed, so an id is never handed out twice
        // and a cursor never sees a new row appear behind it.
        var firstId = await writer.NextIdAsync(ct).ConfigureAwait(false);
        if (existing.Count > 0)
        {
            // A failed request's reference id may be used again: the new request replaces the failed record. Its creation
            // event is rebuilt from the row, so that event's payload is written out before the row goes.
            var ids = existing.Select(e => e.Id).ToArray();
            await MintEventLog.WriteOutCreationPayloadsAsync(writer.Connection, writer.Transaction, ids, collection, intake.Chain, ct).ConfigureAwait(false);
            await writer.Connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM mint_request WHERE {SqlList.In(writer.Connection, "id", "@ids")} AND status = 'failed'", new { ids }, writer.Transaction, cancellationToken: ct)).ConfigureAwait(false);
        }
        if (await writer.InsertAsync(work, firstId, ct).ConfigureAwait(false) != work.Records.Length)
        {
            throw new InvalidOperationException("a reference id of the request appeared inside the intake transaction");
        }
        await writer.AppendCreationEventsAsync(collection.ProjectId, firstId, work.Records.Length, ct).ConfigureAwait(false);
        return new MintIntakeOutcome.Accepted(quota.Quota);
    }

    private static async Task<MintIntakeOutcome.Conflict?> IntakeReferenceConflictAsync(IntakeWriter writer, IntakeWork work, CancellationToken ct) =>
        IntakeReferenceConflict(work, await writer.ExistingReferencesAsync(work.Intake.Collection.Id, work, ct).ConfigureAwait(false));

    /// <summary>A pending or succeeded request holding one of the reference ids is a 409; a failed one may be replaced.</summary>
    private static MintIntakeOutcome.Conflict? IntakeReferenceConflict(IntakeWork work, List<(long Id, string ReferenceId, string Status)> existing)
    {
        var taken = existing.Where(e => e.Status != "failed").Select(e => e.ReferenceId).ToHashSet(StringComparer.Ordinal);
        if (taken.Count == 0)
        {
            return null;
        }
        var ordered = work.ReferenceIds.Where(taken.Contains).ToList();
        return new MintIntakeOutcome.Conflict($"there are already mint requests for reference_ids: {string.Join(", ", ordered)}", "reference_id", ordered);
    }

    private static async Task<MintIntakeOutcome.Conflict?> IntakeTokenConflictAsync(IntakeWriter writer, IntakeWork work, CancellationToken ct)
    {
        var tokenIds = work.CheckedTokenIds;
        if (tokenIds.Length == 0)
        {
            return null;
        }
        var collection = work.Intake.Collection;
        var (requested, mintedTokens) = await writer.ExistingTokensAsync(collection.Id, work, ct).ConfigureAwait(false);
        if (requested.Count == 0 && mintedTokens.Count == 0)
        {
            return null;
        }
        var minted = mintedTokens.ToHashSet(StringComparer.Ordinal);
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

    /// <summary>The rows of one request as the JSON array the SQLite insert unpacks: [reference, owner, token, by_quantity, amount, metadata].</summary>
    private static string IntakeRowsJson(MintRequestRecord[] records)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(records.Length * 256);
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer, IntakeJsonOptions))
        {
            w.WriteStartArray();
            foreach (var r in records)
            {
                w.WriteStartArray();
                w.WriteStringValue(r.ReferenceId);
                w.WriteStringValue(r.OwnerAddress);
                w.WriteStringValue(r.TokenId);
                w.WriteNumberValue(r.ByQuantity ? 1 : 0);
                w.WriteStringValue(r.Amount);
                w.WriteStringValue(r.MetadataJson);
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string IntakeJsonArray(string[] values)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(values.Length * 16 + 2);
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer, IntakeJsonOptions))
        {
            w.WriteStartArray();
            foreach (var v in values)
            {
                w.WriteStringValue(v);
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static readonly System.Text.Json.JsonWriterOptions IntakeJsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The intake writer's own connection and its prepared statements, reused across groups: binding a fresh
    /// multi-row statement per request (or preparing per row) cost more than the durable commit itself.
    /// On SQLite the rows and id lists travel as JSON parameters (json_each), built on the callers' threads.
    /// </summary>
    private sealed class IntakeWriter : IAsyncDisposable
    {
        private const int ChunkRows = 100;
        private readonly Dictionary<string, (DbCommand Command, DbParameter[] Parameters)> _commands = new(StringComparer.Ordinal);
        private readonly bool _sqlite;
        private readonly TimeProvider _time;
        private Guid[] _eventIds = new Guid[128];
        private char[] _eventIdsJson = new char[128 * 39 + 2];

        private IntakeWriter(DbConnection connection, SqlDialect dialect, TimeProvider time)
        {
            Connection = connection;
            _sqlite = dialect == SqlDialect.Sqlite;
            _time = time;
        }

        public DbConnection Connection { get; }

        public DbTransaction Transaction { get; private set; } = null!;

        public static async Task<IntakeWriter> OpenAsync(Database db, TimeProvider time, CancellationToken ct)
        {
            var connection = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
            if (db.Dialect == SqlDialect.Sqlite)
            {
                // Six indexes on mint_request: a larger page cache keeps their hot pages in memory.
                await connection.ExecuteAsync(new CommandDefinition("PRAGMA cache_size = -65536", cancellationToken: ct)).ConfigureAwait(false);
            }
            return new IntakeWriter(connection, db.Dialect, time);
        }

        public void Begin(DbTransaction tx)
        {
            Transaction = tx;
            foreach (var (command, _) in _commands.Values)
            {
                command.Transaction = tx;
            }
        }

        private (DbCommand Command, DbParameter[] Parameters) Command(string key, Func<string> sql, int parameterCount, string[]? names = null)
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

        public Task ExecuteAsync(string sql) => Command(sql, () => sql, 0).Command.ExecuteNonQueryAsync(CancellationToken.None);

        public async Task<long> NextIdAsync(CancellationToken ct)
        {
            var (command, _) = Command("next-id", () => "SELECT COALESCE(MAX(id), 0) + 1 FROM mint_request", 0);
            return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        /// <summary><see cref="OpenMintStore.ConsumeRateAsync"/> with the writer's prepared statement (the rare refusal reads through Dapper).</summary>
        public async Task<(bool Allowed, MintQuota Quota)> ConsumeRateAsync(string scope, long limit, long amount, DateTimeOffset now, CancellationToken ct)
        {
            var window = TimeSpan.FromMinutes(1);
            var (start, end) = RateWindowBounds(window, now);
            var (command, p) = Command("rate", () => ConsumeRateSql, 4, ["@scope", "@start", "@amount", "@limit"]);
            p[0].Value = scope;
            p[1].Value = start;
            p[2].Value = amount;
            p[3].Value = limit;
            var used = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
            if (used is not null and not DBNull)
            {
                return (true, new MintQuota(limit, Convert.ToInt64(used, CultureInfo.InvariantCulture), DateTimeOffset.FromUnixTimeSeconds(end)));
            }
            var refused = await OpenMintStore.ConsumeRateAsync(Connection, Transaction, scope, limit, window, amount, now, ct).ConfigureAwait(false);
            return (refused.Allowed, new MintQuota(refused.Limit, refused.Used, DateTimeOffset.FromUnixTimeSeconds(refused.WindowEnd)));
        }

        public async Task<List<(long Id, string ReferenceId, string Status)>> ExistingReferencesAsync(long collectionId, IntakeWork work, CancellationToken ct)
        {
            if (!_sqlite)
            {
                return (await Connection.QueryAsync<(long, string, string)>(new CommandDefinition(
                    "SELECT id, reference_id, status FROM mint_request WHERE collection_id = @collectionId AND reference_id = ANY(@referenceIds)",
                    new { collectionId, referenceIds = work.ReferenceIds }, Transaction, cancellationToken: ct)).ConfigureAwait(false)).ToList();
            }
            var (command, p) = Command("refs", () =>
                "SELECT id, reference_id, status FROM mint_request WHERE collection_id = @p0 AND reference_id IN (SELECT value FROM json_each(@p1))", 2);
            p[0].Value = collectionId;
            p[1].Value = work.Sqlite!.ReferenceIds;
            var result = new List<(long, string, string)>();
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                result.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
            }
            return result;
        }

        /// <summary>Pending or succeeded requests for the checked token ids, and tokens already known; one statement.</summary>
        public async Task<(List<(string TokenId, string Status)> Requested, List<string> Minted)> ExistingTokensAsync(long collectionId, IntakeWork work, CancellationToken ct)
        {
            var requested = new List<(string, string)>();
            var minted = new List<string>();
            if (!_sqlite)
            {
                var rows = await Connection.QueryAsync<(string, string)>(new CommandDefinition(
                    """
                    SELECT token_id, status FROM mint_request WHERE collection_id = @collectionId AND token_id = ANY(@tokenIds) AND status IN ('pending', 'succeeded')
                    UNION ALL
                    SELECT token_id, 'minted' FROM token WHERE collection_id = @collectionId AND token_id = ANY(@tokenIds)
                    """,
                    new { collectionId, tokenIds = work.CheckedTokenIds }, Transaction, cancellationToken: ct)).ConfigureAwait(false);
                foreach (var (tokenId, status) in rows)
                {
                    if (status == "minted")
                    {
                        minted.Add(tokenId);
                    }
                    else
                    {
                        requested.Add((tokenId, status));
                    }
                }
                return (requested, minted);
            }
            var (command, p) = Command("tokens", () =>
                """
                SELECT token_id, status FROM mint_request WHERE collection_id = @p0 AND token_id IN (SELECT value FROM json_each(@p1)) AND status IN ('pending', 'succeeded')
                UNION ALL
                SELECT token_id, 'minted' FROM token WHERE collection_id = @p0 AND token_id IN (SELECT value FROM json_each(@p1))
                """, 2);
            p[0].Value = collectionId;
            p[1].Value = work.Sqlite!.TokenIds;
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var tokenId = reader.GetString(0);
                var status = reader.GetString(1);
                if (status == "minted")
                {
                    minted.Add(tokenId);
                }
                else
                {
                    requested.Add((tokenId, status));
                }
            }
            return (requested, minted);
        }

        /// <summary>Inserts the request's rows with ids from <paramref name="firstId"/>; a row whose reference id exists is skipped. Returns the rows inserted.</summary>
        public async Task<int> InsertAsync(IntakeWork work, long firstId, CancellationToken ct)
        {
            var records = work.Records;
            if (_sqlite)
            {
                // One JSON parameter for all rows: SQLite unpacks it in C, far cheaper than binding ten parameters per row.
                // ("WHERE true" lets the parser tell the upsert clause from a join constraint.)
                var (command, p) = Command("insert-json", () =>
                    "INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at) " +
                    "SELECT @p0 + key, @p1, @p2, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, 'pending', @p3, @p3 FROM json_each(@p4) WHERE true " +
                    "ON CONFLICT DO NOTHING", 5);
                var first = records[0];
                p[0].Value = firstId;
                p[1].Value = first.CollectionId;
                p[2].Value = first.ProjectId;
                p[3].Value = Time.ToWire(first.CreatedAt);
                p[4].Value = work.Sqlite!.Rows;
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            const int Columns = 10;
            var inserted = 0;
            for (var offset = 0; offset < records.Length; offset += ChunkRows)
            {
                var rows = Math.Min(ChunkRows, records.Length - offset);
                var (command, p) = Command("insert-" + rows.ToString(CultureInfo.InvariantCulture), () => MultiRowSql(
                    "INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at) VALUES ",
                    rows, Columns, "'pending'", 9) + " ON CONFLICT DO NOTHING", rows * Columns);
                for (var i = 0; i < rows; i++)
                {
                    var r = records[offset + i];
                    var b = i * Columns;
                    p[b].Value = firstId + offset + i;
                    p[b + 1].Value = r.CollectionId;
                    p[b + 2].Value = r.ProjectId;
                    p[b + 3].Value = r.ReferenceId;
                    p[b + 4].Value = r.OwnerAddress;
                    p[b + 5].Value = (object?)r.TokenId ?? DBNull.Value;
                    p[b + 6].Value = r.ByQuantity;
                    p[b + 7].Value = (object?)r.Amount ?? DBNull.Value;
                    p[b + 8].Value = (object?)r.MetadataJson ?? DBNull.Value;
                    p[b + 9].Value = Time.ToWire(r.CreatedAt);
                }
                inserted += await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            return inserted;
        }

        /// <summary>
        /// One creation event per inserted row (requests <paramref name="firstId"/> onwards), uuid v7 ids taken here in commit
        /// order. No payload: <see cref="MintEventLog"/> rebuilds a creation event's payload from its row.
        /// </summary>
        public async Task AppendCreationEventsAsync(string projectId, long firstId, int count, CancellationToken ct)
        {
            var createdAt = Time.ToWire(_time.GetUtcNow());
            if (_eventIds.Length < count)
            {
                _eventIds = new Guid[count];
                _eventIdsJson = new char[count * 39 + 2];
            }
            var ids = _eventIds;
            UuidV7.Fill(ids.AsSpan(0, count), _time);
            if (_sqlite)
            {
                var (command, p) = Command("event-json", () =>
                    "INSERT INTO mint_event (event_id, project_id, mint_request_id, status, created_at) " +
                    "SELECT value, @p0, @p1 + key, 'pending', @p2 FROM json_each(@p3)", 4);
                p[0].Value = projectId;
                p[1].Value = firstId;
                p[2].Value = createdAt;
                p[3].Value = EventIdsJson(ids.AsSpan(0, count));
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return;
            }
            const int Columns = 5;
            for (var offset = 0; offset < count; offset += ChunkRows)
            {
                var rows = Math.Min(ChunkRows, count - offset);
                var (command, p) = Command("event-" + rows.ToString(CultureInfo.InvariantCulture), () => MultiRowSql(
                    "INSERT INTO mint_event (event_id, project_id, mint_request_id, status, created_at) VALUES ", rows, Columns, null, 0), rows * Columns);
                for (var i = 0; i < rows; i++)
                {
                    var b = i * Columns;
                    p[b].Value = ids[offset + i].ToString();
                    p[b + 1].Value = projectId;
                    p[b + 2].Value = firstId + offset + i;
                    p[b + 3].Value = "pending";
                    p[b + 4].Value = createdAt;
                }
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }

        /// <summary>["id","id",...] without an encoder: uuids need no escaping.</summary>
        private string EventIdsJson(ReadOnlySpan<Guid> ids)
        {
            var buffer = _eventIdsJson;
            var n = 0;
            buffer[n++] = '[';
            for (var i = 0; i < ids.Length; i++)
            {
                if (i > 0)
                {
                    buffer[n++] = ',';
                }
                buffer[n++] = '"';
                ids[i].TryFormat(buffer.AsSpan(n), out var written);
                n += written;
                buffer[n++] = '"';
            }
            buffer[n++] = ']';
            return new string(buffer, 0, n);
        }

        /// <summary>"prefix (@p0,..),(..)"; <paramref name="literal"/> goes before the column at <paramref name="repeatLast"/>, which is written twice (created_at = updated_at).</summary>
        private static string MultiRowSql(string prefix, int rows, int columns, string? literal, int repeatLast)
        {
            var sb = new StringBuilder(prefix);
            for (var r = 0; r < rows; r++)
            {
                sb.Append(r == 0 ? "(" : ",(");
                for (var c = 0; c < columns; c++)
                {
                    var name = "@p" + (r * columns + c).ToString(CultureInfo.InvariantCulture);
                    if (literal is not null && c == repeatLast)
                    {
                        sb.Append(literal).Append(',').Append(name).Append(',').Append(name);
                    }
                    else
                    {
                        sb.Append(name);
                    }
                    sb.Append(c == columns - 1 ? ")" : ",");
                }
            }
            return sb.ToString();
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var (command, _) in _commands.Values)
            {
                await command.DisposeAsync().ConfigureAwait(false);
            }
            await Connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async Task<MintRequestRecord?> GetMintRequestAsync(long collectionId, string referenceId, CancellationToken ct)
    {
        await using var c = await Db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<MintRequestRow>(new CommandDefinition(
            $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE collection_id = @collectionId AND reference_id = @referenceId",
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
            ? $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {Filter} AND id > @anchor ORDER BY id ASC LIMIT @take"
            : $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {Filter} AND id < @anchor ORDER BY id DESC LIMIT @take";
        var rows = (await c.QueryAsync<MintRequestRow>(new CommandDefinition(sql,
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
    private static string IntakeEncodeCursor(bool newer, long id) => PageCursor.Encode(newer ? PageCursor.MintNewer : PageCursor.MintOlder, id);

    /// <summary>The endpoint checks the cursor with <see cref="PageCursor"/> first, so a bad one here is a caller's bug.</summary>
    private static (bool Newer, long Id) IntakeDecodeCursor(string cursor) =>
        PageCursor.TryDecode(cursor, PageCursor.MintRequestKinds, out var kind, out var id)
            ? (kind == PageCursor.MintNewer, id)
            : throw new FormatException("page_cursor is not a cursor returned by this API");

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
