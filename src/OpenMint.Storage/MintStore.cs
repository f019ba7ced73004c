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
    /// <param name="PayloadTemplates">Each row's event payload with <see cref="Guid.Empty"/> where the event id goes: the
    /// JSON is built on the caller's thread, the writer only splices in the (increasing) event id.</param>
    private sealed record IntakeWork(MintIntake Intake, MintRequestRecord[] Records, string[] PayloadTemplates, TaskCompletionSource<MintIntakeOutcome> Done, CancellationToken Ct);


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
        var records = new MintRequestRecord[intake.Assets.Count];
        var payloads = new string[records.Length];
        for (var i = 0; i < records.Length; i++)
        {
            var a = intake.Assets[i];
            records[i] = new MintRequestRecord(0, collection.Id, collection.ProjectId, a.ReferenceId, a.OwnerAddress, a.TokenId,
                a.TokenId is null, a.Amount, a.MetadataJson, MintStatus.Pending, null, null, null, null, now, now);
            payloads[i] = MintEvents.Payload(Guid.Empty, records[i], collection, intake.Chain);
        }
        var work = new IntakeWork(intake, records, payloads, new TaskCompletionSource<MintIntakeOutcome>(TaskCreationOptions.RunContinuationsAsynchronously), ct);
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
            for (var i = 0; i < group.Count; i++)
            {
                await writer.ExecuteAsync("SAVEPOINT intake").ConfigureAwait(false);
                try
                {
                    outcomes[i] = await AcceptInTransactionAsync(writer, group[i], TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
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
    /// The whole intake of one request inside a caller's transaction. Returns without writing anything
    /// when the outcome is not Accepted (every check happens before the first write).
    /// </summary>
    private static async Task<MintIntakeOutcome> AcceptInTransactionAsync(IntakeWriter writer, IntakeWork work, TimeProvider time, CancellationToken ct)
    {
        var intake = work.Intake;
        var collection = intake.Collection;
        var assets = intake.Assets;
        var referenceIds = assets.Select(a => a.ReferenceId).ToArray();

        var c = writer.Connection;
        var tx = writer.Transaction;
        var existing = await writer.ExistingReferencesAsync(collection.Id, referenceIds, ct).ConfigureAwait(false);
        var taken = existing.Where(e => e.Status != "failed").Select(e => e.ReferenceId).ToList();
        if (taken.Count > 0)
        {
            var ordered = referenceIds.Where(taken.Contains).ToList();
            return new MintIntakeOutcome.Conflict($"there are already mint requests for reference_ids: {string.Join(", ", ordered)}", "reference_id", ordered);
        }

        var conflict = await IntakeTokenConflictAsync(writer, collection, assets, ct).ConfigureAwait(false);
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
        var nextId = await writer.NextIdAsync(ct).ConfigureAwait(false);
        if (existing.Count > 0)
        {
            // A failed request's reference id may be used again: the new request replaces the failed record.
            await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM mint_request WHERE id IN @ids AND status = 'failed'",
                new { ids = existing.Select(e => e.Id).ToArray() }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }

        var records = new MintRequestRecord[work.Records.Length];
        for (var i = 0; i < records.Length; i++)
        {
            records[i] = work.Records[i] with { Id = nextId + i };
        }
        await writer.InsertAsync(records, ct).ConfigureAwait(false);
        await writer.AppendEventsAsync(records, work.PayloadTemplates, ct).ConfigureAwait(false);
        return new MintIntakeOutcome.Accepted(quota.Quota);
    }

    private static async Task<MintIntakeOutcome.Conflict?> IntakeTokenConflictAsync(IntakeWriter writer, Collection collection, IReadOnlyList<MintAsset> assets, CancellationToken ct)
    {
        var checkedAssets = collection.Kind == CollectionKind.Erc721
            ? assets.Where(a => a.TokenId is not null)
            : assets.Where(a => a.TokenId is not null && a.MetadataJson is not null); // ERC1155: only metadata on an existing id conflicts
        var tokenIds = checkedAssets.Select(a => a.TokenId!).Distinct(StringComparer.Ordinal).ToArray();
        if (tokenIds.Length == 0)
        {
            return null;
        }
        var (requested, mintedTokens) = await writer.ExistingTokensAsync(collection.Id, tokenIds, ct).ConfigureAwait(false);
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

    /// <summary>The fixed-window count of RateWindowStore, inside the intake transaction so a refused or conflicting request counts nothing.</summary>
    private static async Task<(bool Allowed, MintQuota Quota)> IntakeConsumeRateAsync(DbConnection c, DbTransaction tx, string scope, long limit, long amount, DateTimeOffset now, CancellationToken ct)
    {
        var d = await ConsumeRateAsync(c, tx, scope, limit, TimeSpan.FromMinutes(1), amount, now, ct).ConfigureAwait(false);
        return (d.Allowed, new MintQuota(d.Limit, d.Used, DateTimeOffset.FromUnixTimeSeconds(d.WindowEnd)));
    }

    /// <summary>
    /// The intake writer's own connection and its prepared statements, reused across groups: binding a fresh
    /// multi-row statement per request (or preparing per row) cost more than the durable commit itself.
    /// On SQLite the id lists travel as one JSON parameter (json_each) so every lookup is one prepared statement.
    /// </summary>
    private sealed class IntakeWriter : IAsyncDisposable
    {
        private const int ChunkRows = 100;
        private readonly Dictionary<string, (DbCommand Command, DbParameter[] Parameters)> _commands = new(StringComparer.Ordinal);
        private readonly bool _sqlite;
        private readonly TimeProvider _time;

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

        private (DbCommand Command, DbParameter[] Parameters) Command(string key, Func<string> sql, int parameterCount)
        {
            if (!_commands.TryGetValue(key, out var entry))
            {
                var command = Connection.CreateCommand();
                command.CommandText = sql();
                var parameters = new DbParameter[parameterCount];
                for (var i = 0; i < parameterCount; i++)
                {
                    parameters[i] = command.CreateParameter();
                    parameters[i].ParameterName = "@p" + i.ToString(CultureInfo.InvariantCulture);
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

        public async Task<List<(long Id, string ReferenceId, string Status)>> ExistingReferencesAsync(long collectionId, string[] referenceIds, CancellationToken ct)
        {
            if (!_sqlite)
            {
                return (await Connection.QueryAsync<(long, string, string)>(new CommandDefinition(
                    "SELECT id, reference_id, status FROM mint_request WHERE collection_id = @collectionId AND reference_id IN @referenceIds",
                    new { collectionId, referenceIds }, Transaction, cancellationToken: ct)).ConfigureAwait(false)).ToList();
            }
            var (command, p) = Command("refs", () =>
                "SELECT id, reference_id, status FROM mint_request WHERE collection_id = @p0 AND reference_id IN (SELECT value FROM json_each(@p1))", 2);
            p[0].Value = collectionId;
            p[1].Value = System.Text.Json.JsonSerializer.Serialize(referenceIds);
            var result = new List<(long, string, string)>();
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                result.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
            }
            return result;
        }

        public async Task<(List<(string TokenId, string Status)> Requested, List<string> Minted)> ExistingTokensAsync(long collectionId, string[] tokenIds, CancellationToken ct)
        {
            if (!_sqlite)
            {
                var requested = (await Connection.QueryAsync<(string, string)>(new CommandDefinition(
                    "SELECT token_id, status FROM mint_request WHERE collection_id = @collectionId AND token_id IN @tokenIds AND status IN ('pending', 'succeeded')",
                    new { collectionId, tokenIds }, Transaction, cancellationToken: ct)).ConfigureAwait(false)).ToList();
                var minted = (await Connection.QueryAsync<string>(new CommandDefinition(
                    "SELECT token_id FROM token WHERE collection_id = @collectionId AND token_id IN @tokenIds",
                    new { collectionId, tokenIds }, Transaction, cancellationToken: ct)).ConfigureAwait(false)).ToList();
                return (requested, minted);
            }
            var json = System.Text.Json.JsonSerializer.Serialize(tokenIds);
            var (requestedCommand, rp) = Command("tokens-requested", () =>
                "SELECT token_id, status FROM mint_request WHERE collection_id = @p0 AND token_id IN (SELECT value FROM json_each(@p1)) AND status IN ('pending', 'succeeded')", 2);
            rp[0].Value = collectionId;
            rp[1].Value = json;
            var requestedRows = new List<(string, string)>();
            await using (var reader = await requestedCommand.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    requestedRows.Add((reader.GetString(0), reader.GetString(1)));
                }
            }
            var (mintedCommand, mp) = Command("tokens-minted", () =>
                "SELECT token_id FROM token WHERE collection_id = @p0 AND token_id IN (SELECT value FROM json_each(@p1))", 2);
            mp[0].Value = collectionId;
            mp[1].Value = json;
            var mintedRows = new List<string>();
            await using (var reader = await mintedCommand.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    mintedRows.Add(reader.GetString(0));
                }
            }
            return (requestedRows, mintedRows);
        }

        public async Task InsertAsync(MintRequestRecord[] records, CancellationToken ct)
        {
            if (_sqlite && records.Length > 0)
            {
                // One JSON parameter for all rows: SQLite unpacks it in C, far cheaper than binding ten parameters per row.
                var (command, p) = Command("insert-json", () =>
                    "INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at) " +
                    "SELECT @p0 + key, @p1, @p2, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, 'pending', @p3, @p3 FROM json_each(@p4)", 5);
                var first = records[0];
                p[0].Value = first.Id;
                p[1].Value = first.CollectionId;
                p[2].Value = first.ProjectId;
                p[3].Value = Time.ToWire(first.CreatedAt);
                p[4].Value = RowsJson(records, static (w, r) =>
                {
                    w.WriteStringValue(r.ReferenceId);
                    w.WriteStringValue(r.OwnerAddress);
                    w.WriteStringValue(r.TokenId);
                    w.WriteNumberValue(r.ByQuantity ? 1 : 0);
                    w.WriteStringValue(r.Amount);
                    w.WriteStringValue(r.MetadataJson);
                });
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return;
            }
            const int Columns = 10;
            for (var offset = 0; offset < records.Length; offset += ChunkRows)
            {
                var rows = Math.Min(ChunkRows, records.Length - offset);
                var (command, p) = Command("insert-" + rows.ToString(CultureInfo.InvariantCulture), () => MultiRowSql(
                    "INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at) VALUES ",
                    rows, Columns, "'pending'", 9), rows * Columns);
                for (var i = 0; i < rows; i++)
                {
                    var r = records[offset + i];
                    var b = i * Columns;
                    p[b].Value = r.Id;
                    p[b + 1].Value = r.CollectionId;
                    p[b + 2].Value = r.ProjectId;
                    p[b + 3].Value = r.ReferenceId;
                    p[b + 4].Value = r.OwnerAddress;
                    p[b + 5].Value = (object?)r.TokenId ?? DBNull.Value;
                    p[b + 6].Value = _sqlite ? (r.ByQuantity ? 1 : 0) : r.ByQuantity;
                    p[b + 7].Value = (object?)r.Amount ?? DBNull.Value;
                    p[b + 8].Value = (object?)r.MetadataJson ?? DBNull.Value;
                    p[b + 9].Value = Time.ToWire(r.CreatedAt);
                }
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }

        private static string RowsJson(MintRequestRecord[] records, Action<System.Text.Json.Utf8JsonWriter, MintRequestRecord> row)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(records.Length * 256);
            using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                w.WriteStartArray();
                foreach (var r in records)
                {
                    w.WriteStartArray();
                    row(w, r);
                    w.WriteEndArray();
                }
                w.WriteEndArray();
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        /// <summary>The rows <see cref="MintEventLog.AppendAsync"/> writes (uuid v7 ids taken here in commit order, the same payload), one statement per request.</summary>
        public async Task AppendEventsAsync(MintRequestRecord[] records, string[] payloadTemplates, CancellationToken ct)
        {
            var createdAt = Time.ToWire(_time.GetUtcNow());
            var eventIds = new string[records.Length];
            var payloads = new string[records.Length];
            for (var i = 0; i < records.Length; i++)
            {
                var eventId = UuidV7.New(_time);
                eventIds[i] = eventId.ToString();
                payloads[i] = MintEvents.WithEventId(payloadTemplates[i], eventId);
            }
            if (_sqlite && records.Length > 0)
            {
                var (command, p) = Command("event-json", () =>
                    "INSERT INTO mint_event (event_id, project_id, mint_request_id, status, payload, created_at) " +
                    "SELECT value ->> 0, @p0, @p1 + key, 'pending', value ->> 1, @p2 FROM json_each(@p3)", 4);
                p[0].Value = records[0].ProjectId;
                p[1].Value = records[0].Id;
                p[2].Value = createdAt;
                var index = 0;
                p[3].Value = RowsJson(records, (w, _) =>
                {
                    w.WriteStringValue(eventIds[index]);
                    w.WriteStringValue(payloads[index]);
                    index++;
                });
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return;
            }
            const int Columns = 6;
            for (var offset = 0; offset < records.Length; offset += ChunkRows)
            {
                var rows = Math.Min(ChunkRows, records.Length - offset);
                var (command, p) = Command("event-" + rows.ToString(CultureInfo.InvariantCulture), () => MultiRowSql(
                    "INSERT INTO mint_event (event_id, project_id, mint_request_id, status, payload, created_at) VALUES ", rows, Columns, null, 0), rows * Columns);
                for (var i = 0; i < rows; i++)
                {
                    var r = records[offset + i];
                    var b = i * Columns;
                    p[b].Value = eventIds[offset + i];
                    p[b + 1].Value = r.ProjectId;
                    p[b + 2].Value = r.Id;
                    p[b + 3].Value = r.Status.ToWire();
                    p[b + 4].Value = payloads[offset + i];
                    p[b + 5].Value = createdAt;
                }
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
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
