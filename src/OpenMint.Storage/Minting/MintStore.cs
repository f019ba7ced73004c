using System.Data.Common;
using System.Globalization;
using System.Text;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;

namespace OpenMint.Storage.Minting;

/// <summary>
/// Minting API intake and reads (IMintStore). Intake's rules are <see cref="MintIntakePolicy"/>; this class builds the rows
/// on the caller's thread and hands them to the <see cref="IntakeWriter"/>'s group commit.
/// </summary>
internal sealed class MintStore(Database db, IntakeWriter writer, TimeProvider time) : IMintStore
{
    public Task<MintIntakeOutcome> AcceptMintRequestsAsync(MintIntake intake, CancellationToken ct)
    {
        var now = time.GetUtcNow();
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
        var tokenIds = MintIntakePolicy.CheckedTokenIds(collection, assets);
        var work = new IntakeWork(intake, records, referenceIds, tokenIds, db.Dialect.PrepareIntake(records, referenceIds, tokenIds),
            new TaskCompletionSource<MintIntakeOutcome>(TaskCreationOptions.RunContinuationsAsynchronously), ct);
        if (!writer.TryEnqueue(work))
        {
            throw new InvalidOperationException("the intake writer has stopped: the store is shutting down");
        }
        return work.Done.Task;
    }

    public async Task<MintRequestRecord?> GetMintRequestAsync(long collectionId, string referenceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<MintRequestRow>(new CommandDefinition(
            $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE collection_id = @collectionId AND reference_id = @referenceId",
            new { collectionId, referenceId }, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToModel();
    }

    public async Task<MintRequestPage> ListMintRequestsAsync(long collectionId, MintStatus? status, string? cursor, int pageSize, CancellationToken ct)
    {
        var (newer, anchor) = cursor is null ? (false, long.MaxValue) : DecodeCursor(cursor);
        var statusText = status?.ToWire();
        const string Filter = "collection_id = @collectionId AND (@status IS NULL OR status = @status)";
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await db.Dialect.BeginReadAsync(c, ct).ConfigureAwait(false);
        if (db.Dialect.MigrationsFolder == "postgres")
        {
            // Intake writers of several instances take ids concurrently: wait until none that may hold a lower id is still
            // writing, so a page never misses a row that commits later (IntakeOrder).
            await c.ExecuteAsync(new CommandDefinition(IntakeOrder.ReaderLockSql, transaction: tx, cancellationToken: ct)).ConfigureAwait(false);
        }
        var sql = newer
            ? $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {Filter} AND id > @anchor ORDER BY id ASC LIMIT @take"
            : $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {Filter} AND id < @anchor ORDER BY id DESC LIMIT @take";
        var rows = (await c.QueryAsync<MintRequestRow>(new CommandDefinition(sql,
            new { collectionId, status = statusText, anchor, take = pageSize + 1 }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
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
            return new MintRequestPage(items, newer || cursor is null ? null : EncodeCursor(true, anchor == long.MaxValue ? 0 : anchor - 1), newer ? EncodeCursor(false, anchor + 1) : null);
        }
        var first = items[0].Id;
        var last = items[^1].Id;
        bool hasNewer, hasOlder;
        if (newer)
        {
            hasNewer = more;
            hasOlder = await ExistsAsync(c, tx, $"SELECT 1 FROM mint_request WHERE {Filter} AND id < @id LIMIT 1", collectionId, statusText, last, ct).ConfigureAwait(false);
        }
        else
        {
            hasOlder = more;
            hasNewer = cursor is not null && await ExistsAsync(c, tx, $"SELECT 1 FROM mint_request WHERE {Filter} AND id > @id LIMIT 1", collectionId, statusText, first, ct).ConfigureAwait(false);
        }
        return new MintRequestPage(items, hasNewer ? EncodeCursor(true, first) : null, hasOlder ? EncodeCursor(false, last) : null);
    }

    private static async Task<bool> ExistsAsync(DbConnection c, DbTransaction tx, string sql, long collectionId, string? status, long id, CancellationToken ct) =>
        await c.ExecuteScalarAsync<long?>(new CommandDefinition(sql, new { collectionId, status, id }, tx, cancellationToken: ct)).ConfigureAwait(false) is not null;

    /// <summary>Cursors name a row id and a direction: rows only ever get larger ids, so pages stay put under inserts.</summary>
    private static string EncodeCursor(bool newer, long id) => PageCursor.Encode(newer ? PageCursor.MintNewer : PageCursor.MintOlder, id);

    /// <summary>The endpoint checks the cursor with <see cref="PageCursor"/> first, so a bad one here is a caller's bug.</summary>
    private static (bool Newer, long Id) DecodeCursor(string cursor) =>
        PageCursor.TryDecode(cursor, PageCursor.MintRequestKinds, out var kind, out var id)
            ? (kind == PageCursor.MintNewer, id)
            : throw new FormatException("page_cursor is not a cursor returned by this API");

    public async Task<TokenRecord?> GetTokenAsync(long collectionId, string tokenId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<TokenRow>(new CommandDefinition(
            """
            SELECT collection_id AS CollectionId, token_id AS TokenId, owner_address AS OwnerAddress, metadata AS MetadataJson,
                   metadata_synced_at AS MetadataSyncedAt, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM token WHERE collection_id = @collectionId AND token_id = @tokenId
            """,
            new { collectionId, tokenId }, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToModel();
    }

    private sealed class TokenRow
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
