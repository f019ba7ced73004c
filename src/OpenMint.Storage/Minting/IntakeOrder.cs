namespace OpenMint.Storage.Minting;

/// <summary>
/// PostgreSQL only: how list reads see mint_request ids in commit order while intake writers of several instances run
/// concurrently. Every writer holds <see cref="WriterLockSql"/> (shared, so writers never wait for each other) from the
/// start of its group, before it takes ids, until its commit; a list read takes <see cref="ReaderLockSql"/> (exclusive) in
/// its own transaction: granted once every writer that may hold a lower id has ended, and new writers wait the read's few
/// milliseconds, so no row appears later behind a page already served (docs/api.md, list cursors).
/// </summary>
internal static class IntakeOrder
{
    private const string Key = "727275";

    public const string WriterLockSql = "SELECT pg_advisory_xact_lock_shared(" + Key + ")";

    public const string ReaderLockSql = "SELECT pg_advisory_xact_lock(" + Key + ")";
}
