using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Telemetry;
using OpenMint.Core.Tenancy;
using OpenMint.Storage.Telemetry;

namespace OpenMint.Api.Telemetry;

/// <summary>
/// Feeds the gauges every <c>Telemetry:SampleInterval</c> (default 15 s): the queue by status from the store and
/// each minter wallet's balance from its chain's RPC. Scrapes read the last sample, so scraping costs neither.
/// </summary>
internal sealed partial class MetricsSampler(QueueCounts queue, ITenancyStore tenancy, ChainConnector connector, IConfiguration configuration,
    TimeProvider time, ILogger<MetricsSampler> log) : BackgroundService
{
    private readonly Dictionary<string, string> _signers = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue("Telemetry:SampleInterval", TimeSpan.FromSeconds(15));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SampleAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                SampleFailed(log, ex.Message);
            }
            try
            {
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SampleAsync(CancellationToken ct)
    {
        var chains = await tenancy.ListChainsAsync(ct).ConfigureAwait(false);
        var counts = await queue.ReadAsync(ct).ConfigureAwait(false);
        foreach (var chain in chains)
        {
            foreach (var status in new[] { "queued", "in_flight" })
            {
                OpenMintMetrics.QueueSize(chain.Name, status, counts.FirstOrDefault(c => c.Chain == chain.Name && c.Status == status)?.Count ?? 0);
            }
        }
        foreach (var (chain, keyRef) in chains.SelectMany(c => c.Minters.Select(r => (c, r))))
        {
            try
            {
                if (!_signers.TryGetValue(chain.Name + "|" + keyRef, out var signer))
                {
                    signer = _signers[chain.Name + "|" + keyRef] = connector.Signer(chain, keyRef).Address;
                }
                var balance = await connector.Node(chain).GetBalanceAsync(signer, ct).ConfigureAwait(false);
                OpenMintMetrics.SignerBalance(chain.Name, signer, balance);
                if (chain.LowBalanceWei is { } low)
                {
                    OpenMintMetrics.SignerLowBalance(chain.Name, signer, balance < System.Numerics.BigInteger.Parse(low, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                BalanceFailed(log, chain.Name, ex.Message);
            }
        }
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Metrics: sampling the queue failed: {Message}")]
    private static partial void SampleFailed(ILogger log, string message);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Debug, Message = "Metrics: chain {Chain}: reading the minter balance failed: {Message}")]
    private static partial void BalanceFailed(ILogger log, string chain, string message);
}
