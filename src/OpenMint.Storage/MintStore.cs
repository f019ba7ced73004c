using System.Data.Common;
using System.Globalization;
using System.Text;
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

    public Task<MintIntakeOutcome> AcceptMintRequestsAsync(MintIntake intake, CancellationToken ct) =>
        Db.InTransactionAsync((c, tx) => AcceptInTransactionAsync(c, tx, intake, TimeProvider.System, ct), ct);

    /// <summary>
    /// The whole intake of one request inside a caller's transaction. Returns without writing anything
    /// when the outcome is not Accepted (every check happens before the first write).
    /// </summary>
    private async Task<MintIntakeOutcome> AcceptInTransactionAsync(DbConnection c, DbTransaction tx, MintIntake intake, TimeProvider time, CancellationToken ct)
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
        await IntakeInsertAsync(c, tx, records, ct).ConfigureAwait(false);
        foreach (var record in records)
        {
            await MintEventLog.AppendAsync(c, tx, record, collection, intake.Chain, time, ct).ConfigureAwait(false);
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

    private async Task IntakeInsertAsync(DbConnection c, DbTransaction tx, MintRequestRecord[] records, CancellationToken ct)
    {
        // One multi-row statement per request: far fewer round trips through the provider than one INSERT per asset.
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = IntakeInsertSql(records.Length);
        var sqlite = Db.Dialect == SqlDialect.Sqlite;
        for (var i = 0; i < records.Length; i++)
        {
            var r = records[i];
            var createdAt = Time.ToWire(r.CreatedAt);
            IntakeAdd(cmd, $"@a{i}", r.Id);
            IntakeAdd(cmd, $"@b{i}", r.CollectionId);
            IntakeAdd(cmd, $"@c{i}", r.ProjectId);
            IntakeAdd(cmd, $"@d{i}", r.ReferenceId);
            IntakeAdd(cmd, $"@e{i}", r.OwnerAddress);
            IntakeAdd(cmd, $"@f{i}", r.TokenId);
            IntakeAdd(cmd, $"@g{i}", sqlite ? (r.ByQuantity ? 1 : 0) : r.ByQuantity);
            IntakeAdd(cmd, $"@h{i}", r.Amount);
            IntakeAdd(cmd, $"@i{i}", r.MetadataJson);
            IntakeAdd(cmd, $"@j{i}", createdAt);
        }
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static void IntakeAdd(DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
    }

    private static readonly string?[] IntakeInsertSqlCache = new string?[MintRequestParser.MaxAssets + 1];

    private static string IntakeInsertSql(int rows)
    {
        if (rows < IntakeInsertSqlCache.Length && IntakeInsertSqlCache[rows] is { } cached)
        {
            return cached;
        }
        var sb = new StringBuilder(
            "INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at) VALUES ");
        for (var i = 0; i < rows; i++)
        {
            sb.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                $"(@a{i},@b{i},@c{i},@d{i},@e{i},@f{i},@g{i},@h{i},@i{i},'pending',@j{i},@j{i})");
        }
        var sql = sb.ToString();
        if (rows < IntakeInsertSqlCache.Length)
        {
            IntakeInsertSqlCache[rows] = sql;
        }
        return sql;
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
