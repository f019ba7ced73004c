using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Refresh;

namespace OpenMint.Api.Refresh;

/// <summary>Hosts the refresh fetch loop; should the loop itself ever fault, it is started again after a pause.</summary>
internal sealed partial class RefreshWorkerService(RefreshProcessor processor, TimeProvider time, ILogger<RefreshWorkerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await processor.RunAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LoopFaulted(logger, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(5101, LogLevel.Critical, "Metadata refresh loop faulted; restarting in 5 s")]
    private static partial void LoopFaulted(ILogger logger, Exception exception);
}
