using Dapper;

namespace OpenMint.Storage.Telemetry;

/// <summary>A signer as the store sees it: the next nonce it will use, why it is paused, and its txs in flight.</summary>
public sealed record SignerRow(long? NextNonce, string? PausedReason, long InFlight);

/// <summary>The read behind <c>openmint signer status</c> (no lease taken: it only looks).</summary>
public sealed class SignerRows(Database database)
{
    public async Task<SignerRow> ReadAsync(string chain, string signer, CancellationToken ct)
    {
        await using var c = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        var lease = await c.QuerySingleOrDefaultAsync<(long? NextNonce, string? PausedReason)>(new CommandDefinition(
            "SELECT next_nonce, paused_reason FROM signer_lease WHERE chain_name = @chain AND signer_address = @signer",
            new { chain, signer = signer.ToLowerInvariant() }, cancellationToken: ct)).ConfigureAwait(false);
        var inFlight = await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM tx WHERE chain_name = @chain AND signer_address = @signer AND state IN ('pending', 'mined')",
            new { chain, signer = signer.ToLowerInvariant() }, cancellationToken: ct)).ConfigureAwait(false);
        return new SignerRow(lease.NextNonce, lease.PausedReason, inFlight);
    }
}
