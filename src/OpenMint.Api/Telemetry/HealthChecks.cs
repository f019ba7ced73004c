using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;

namespace OpenMint.Api.Telemetry;

/// <summary>The store answers a trivial query.</summary>
internal sealed class StoreHealthCheck(Database database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var c = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT 1";
            await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the store ({database.Display.Split(';')[0]}) does not answer: {ex.Message}");
        }
    }
}

/// <summary>
/// Every configured chain's RPC answers <c>eth_getBlockByNumber("latest")</c> within <see cref="Timeout"/>; each chain
/// is one entry of the result's data (null when it answered, else why not).
/// </summary>
internal sealed class ChainsHealthCheck(ITenancyStore tenancy, ChainConnector connector) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var chains = await tenancy.ListChainsAsync(cancellationToken).ConfigureAwait(false);
        var results = await Task.WhenAll(chains.Select(c => ProbeAsync(c, cancellationToken))).ConfigureAwait(false);
        var data = results.ToDictionary(r => "chain " + r.Chain, r => (object)r.Error!);
        var failed = results.Where(r => r.Error is not null).Select(r => r.Chain).ToList();
        return failed.Count == 0
            ? HealthCheckResult.Healthy(data: data)
            : HealthCheckResult.Unhealthy("RPC not answering: " + string.Join(", ", failed), data: data);
    }

    private async Task<(string Chain, string? Error)> ProbeAsync(ChainConfig chain, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(Timeout);
        try
        {
            await connector.Node(chain).GetLatestBlockAsync(cts.Token).ConfigureAwait(false);
            return (chain.Name, null);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return (chain.Name, ex is OperationCanceledException ? $"no answer within {Timeout.TotalSeconds:0} s" : ex.Message);
        }
    }
}
