using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>How the worker reaches a chain: its node and its minter's signer (the Chain layer in production, fakes in tests).</summary>
public sealed record ChainConnector(Func<ChainConfig, IChainNode> Node, Func<ChainConfig, ITxSigner> Signer);

/// <summary>
/// Runs one <see cref="ChainSender"/> per configured chain in this process. Several instances may
/// run: the signer lease in the store makes exactly one of them the writer of each signer.
/// </summary>
public sealed partial class PipelineWorker(
    IPipelineStore store, ITenancyStore tenancy, ChainConnector connector, IOptions<PipelineOptions> options, TimeProvider time, ILogger<PipelineWorker> log) : BackgroundService
{
    private readonly Dictionary<string, ChainSender> _senders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _setupRetryAt = new(StringComparer.Ordinal);
    private readonly string _instance = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var crash = CrashPoints.FromEnvironment(o.CrashAt);
        // Jittered start: instances started together do not race for the same leases in lock step.
        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)Math.Min(200, o.PollInterval.TotalMilliseconds))), time, stoppingToken).ConfigureAwait(false);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var quick = false;
            try
            {
                foreach (var chain in await tenancy.ListChainsAsync(stoppingToken).ConfigureAwait(false))
                {
                    var sender = Sender(chain, o, crash);
                    if (sender is null)
                    {
                        continue;
                    }
                    try
                    {
                        await sender.TickAsync(stoppingToken).ConfigureAwait(false);
                        quick |= sender.WantsQuickTick;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        TickFailed(log, ex, chain.Name);
                    }
                }
                failures = 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures++;
                LoopFailed(log, ex);
            }
            // Back off on repeated store failures; otherwise tick at the poll interval (sooner right after sends a chain mines at once).
            var delay = failures == 0 ? (quick ? o.PollInterval / 10 : o.PollInterval) : TimeSpan.FromMilliseconds(Math.Min(30_000, o.PollInterval.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 10))));
            try
            {
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var sender in _senders.Values)
        {
            try
            {
                await sender.ReleaseAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                TickFailed(log, ex, "(release)");
            }
        }
    }

    private ChainSender? Sender(ChainConfig chain, PipelineOptions o, CrashPoints crash)
    {
        if (chain.MinterKeyRef is null)
        {
            return null;
        }
        var key = $"{chain.Name}|{chain.MinterKeyRef}|{string.Join(",", chain.RpcUrls)}|{chain.Confirmations}";
        if (_senders.TryGetValue(key, out var sender))
        {
            return sender;
        }
        if (_setupRetryAt.TryGetValue(key, out var retryAt) && time.GetUtcNow() < retryAt)
        {
            return null;
        }
        try
        {
            sender = new ChainSender(new SenderContext(chain, connector.Signer(chain), _instance, connector.Node(chain), store, o, time, log, crash), tenancy);
            _senders[key] = sender;
            return sender;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            // A missing key file or variable: say so, and look again later (the operator may fix it live).
            SetupFailed(log, chain.Name, ex.Message);
            _setupRetryAt[key] = time.GetUtcNow() + TimeSpan.FromSeconds(30);
            return null;
        }
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Error, Message = "Pipeline tick failed for chain {Chain}")]
    private static partial void TickFailed(ILogger log, Exception ex, string chain);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "Pipeline loop failed")]
    private static partial void LoopFailed(ILogger log, Exception ex);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Error, Message = "Chain {Chain}: cannot start minting: {Reason}")]
    private static partial void SetupFailed(ILogger log, string chain, string reason);
}
