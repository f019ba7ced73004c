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
        var firstId = await writer.NextIdAsync(ct).ConfigureAwait(false);
        if (await writer.InsertAsync(work, firstId, ct).ConfigureAwait(false) != work.Records.Length)
        {
            return null;
        }
        await writer.AppendCreationEventsAsync(collection.ProjectId, firstId, work.Records.Length, ct).ConfigureAwait(false);
        return new MintIntakeOutcome.Accepted(quota.Quota);
    }

    /// <summary>The whole intake of one request when a reference id of it already exists (409, or a failed request replaced).</summary>
    public static async Task<MintIntakeOutcome> AcceptAsync(IntakeStatements writer, SqlDialect dialect, IntakeWork work, CancellationToken ct)
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
        var firstId = await writer.NextIdAsync(ct).ConfigureAwait(false);
        var replaced = MintIntakePolicy.Replaced(existing);
        if (replaced.Length > 0)
        {
            // The replaced request's creation event is rebuilt from its row, so that event's payload is written out before the row goes.
            await MintEventLog.WriteOutCreationPayloadsAsync(writer.Connection, writer.Transaction, dialect, replaced, collection, intake.Chain, ct).ConfigureAwait(false);
            await writer.DeleteFailedAsync(dialect, replaced, ct).ConfigureAwait(false);
        }
        if (await writer.InsertAsync(work, firstId, ct).ConfigureAwait(false) != work.Records.Length)
        {
            throw new InvalidOperationException("a reference id of the request appeared inside the intake transaction");
        }
        await writer.AppendCreationEventsAsync(collection.ProjectId, firstId, work.Records.Length, ct).ConfigureAwait(false);
        return new MintIntakeOutcome.Accepted(quota.Quota);
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
