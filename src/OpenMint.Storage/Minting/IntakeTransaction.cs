using OpenMint.Core.Minting;
using OpenMint.Storage.Events;

namespace OpenMint.Storage.Minting;

/// <summary>
/// One request's intake inside a group's transaction: the facts are looked up with the writer's statements and judged by
/// <see cref="MintIntakePolicy"/>; every check happens before the first write, so a refusal writes and counts nothing.
/// </summary>
internal static class IntakeTransaction
{
    /// <summary>
    /// The common case, with one lookup less: no reference id of the request exists yet. The rows go in with
    /// <c>ON CONFLICT DO NOTHING</c>, so the unique index that the insert probes anyway is the reference check.
    /// Returns null when a reference id turned out to exist (the caller rolls back to its savepoint and runs
    /// <see cref="AcceptAsync"/>). Refusals check the reference ids first, so a 409 on a reference id still
    /// wins over a token conflict or the rate limit, exactly as in <see cref="AcceptAsync"/>.
    /// </summary>
    public static async Task<MintIntakeOutcome?> AcceptFastAsync(IntakeStatements writer, IntakeWork work, CancellationToken ct)
    {
        var intake = work.Intake;
        var collection = intake.Collection;
        var tokenConflict = await TokenConflictAsync(writer, work, ct).ConfigureAwait(false);
        if (tokenConflict is not null)
        {
            return await ReferenceConflictAsync(writer, work, ct).ConfigureAwait(false) ?? (MintIntakeOutcome)tokenConflict;
        }
        var quota = await writer.ConsumeRateAsync(MintIntakePolicy.RateScope(collection.ProjectId), intake.RateLimitPerMinute, intake.RateUnits, ct).ConfigureAwait(false);
        if (quota.Allowed is false)
        {
            return await ReferenceConflictAsync(writer, work, ct).ConfigureAwait(false) ?? (MintIntakeOutcome)new MintIntakeOutcome.RateLimited(quota.Quota);
        }
        IntakeWork[] one = [work];
        var ids = await writer.TakeIdsAsync(work.Records.Length, ct).ConfigureAwait(false);
        if (await writer.InsertAsync(one, ids, ct).ConfigureAwait(false) != work.Records.Length)
        {
            return null;
        }
        await writer.AppendCreationEventsAsync(one, ids, ct).ConfigureAwait(false);
        return new MintIntakeOutcome.Accepted(quota.Quota);
    }

    /// <summary>
    /// The whole intake of one request when a reference id of it already exists (409, or a failed request replaced). Null when
    /// a row was still skipped: another instance's writer (PostgreSQL) committed one of the reference ids meanwhile; the
    /// caller rolls back to the request's savepoint and decides again.
    /// </summary>
    public static async Task<MintIntakeOutcome?> AcceptAsync(IntakeStatements writer, SqlDialect dialect, IntakeWork work, CancellationToken ct)
    {
        var intake = work.Intake;
        var collection = intake.Collection;
        var existing = await writer.ExistingReferencesAsync(collection.Id, work, ct).ConfigureAwait(false);
        var refused = MintIntakePolicy.ReferenceConflict(work.ReferenceIds, existing)
            ?? await TokenConflictAsync(writer, work, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }
        var quota = await writer.ConsumeRateAsync(MintIntakePolicy.RateScope(collection.ProjectId), intake.RateLimitPerMinute, intake.RateUnits, ct).ConfigureAwait(false);
        if (quota.Allowed is false)
        {
            return new MintIntakeOutcome.RateLimited(quota.Quota);
        }

        // Ids are taken before the failed rows are removed, so an id is never handed out twice
        // and a cursor never sees a new row appear behind it.
        IntakeWork[] one = [work];
        var ids = await writer.TakeIdsAsync(work.Records.Length, ct).ConfigureAwait(false);
        var replaced = MintIntakePolicy.Replaced(existing);
        if (replaced.Length > 0)
        {
            // The replaced request's creation event is rebuilt from its row, so that event's payload is written out before the row goes.
            await MintEventLog.WriteOutCreationPayloadsAsync(writer.Connection, writer.Transaction, dialect, replaced, collection, intake.Chain, ct).ConfigureAwait(false);
            await writer.DeleteFailedAsync(dialect, replaced, ct).ConfigureAwait(false);
        }
        if (await writer.InsertAsync(one, ids, ct).ConfigureAwait(false) != work.Records.Length)
        {
            return null;
        }
        await writer.AppendCreationEventsAsync(one, ids, ct).ConfigureAwait(false);
        return new MintIntakeOutcome.Accepted(quota.Quota);
    }

    /// <summary>
    /// A whole group in a handful of statements when nothing in it can be refused: no two requests share a reference id or a
    /// checked token id, no checked token id is taken, every reference id is new (the insert skipped no row) and each project's
    /// window has room for all of its requests. Each request's quota is what it would have been one request at a time, in
    /// group order. Null when any of that fails: the caller rolls back to before the group and takes the requests one by one.
    /// </summary>
    public static async Task<MintIntakeOutcome[]?> AcceptGroupAsync(IntakeStatements writer, IReadOnlyList<IntakeWork> group, CancellationToken ct)
    {
        var rows = 0;
        var references = new HashSet<(long, string)>();
        var tokens = new HashSet<(long, string)>();
        foreach (var work in group)
        {
            var collectionId = work.Intake.Collection.Id;
            rows += work.Records.Length;
            if (work.ReferenceIds.Any(r => !references.Add((collectionId, r))) || work.CheckedTokenIds.Any(t => !tokens.Add((collectionId, t))))
            {
                return null;
            }
        }
        if (tokens.Count > 0 && await writer.AnyTokenTakenAsync(group, ct).ConfigureAwait(false))
        {
            return null;
        }
        var ids = await writer.TakeIdsAsync(rows, ct).ConfigureAwait(false);
        if (await writer.InsertAllAsync(group, ids, ct).ConfigureAwait(false) != rows)
        {
            return null;
        }
        await writer.AppendCreationEventsAsync(group, ids, ct).ConfigureAwait(false);
        // Last, so that on PostgreSQL the project's window row stays locked only until the commit that follows.
        return await ConsumeGroupRateAsync(writer, group, ct).ConfigureAwait(false);
    }

    /// <summary>One conditional upsert per project for the sum of its requests; null when one project's window has no room for all.</summary>
    private static async Task<MintIntakeOutcome[]?> ConsumeGroupRateAsync(IntakeStatements writer, IReadOnlyList<IntakeWork> group, CancellationToken ct)
    {
        var outcomes = new MintIntakeOutcome[group.Count];
        foreach (var project in group.Select((w, i) => (w, i)).GroupBy(x => x.w.Intake.Collection.ProjectId, StringComparer.Ordinal))
        {
            var limit = project.First().w.Intake.RateLimitPerMinute;
            if (project.Any(x => x.w.Intake.RateLimitPerMinute != limit))
            {
                return null;
            }
            var units = project.Sum(x => x.w.Intake.RateUnits);
            var quota = await writer.ConsumeRateAsync(MintIntakePolicy.RateScope(project.Key), limit, units, ct).ConfigureAwait(false);
            if (quota.Allowed is false)
            {
                return null;
            }
            var used = quota.Quota.Used - units;
            foreach (var (work, i) in project)
            {
                used += work.Intake.RateUnits;
                outcomes[i] = new MintIntakeOutcome.Accepted(quota.Quota with { Used = used });
            }
        }
        return outcomes;
    }

    private static async Task<MintIntakeOutcome.Conflict?> ReferenceConflictAsync(IntakeStatements writer, IntakeWork work, CancellationToken ct) =>
        MintIntakePolicy.ReferenceConflict(work.ReferenceIds, await writer.ExistingReferencesAsync(work.Intake.Collection.Id, work, ct).ConfigureAwait(false));

    private static async Task<MintIntakeOutcome.Conflict?> TokenConflictAsync(IntakeStatements writer, IntakeWork work, CancellationToken ct)
    {
        if (work.CheckedTokenIds.Length == 0)
        {
            return null;
        }
        var collection = work.Intake.Collection;
        var (requested, minted) = await writer.ExistingTokensAsync(collection.Id, work, ct).ConfigureAwait(false);
        return MintIntakePolicy.TokenConflict(collection, work.CheckedTokenIds, requested, minted);
    }
}
