using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// How the worker reaches a chain: its node, and the signer of one of its minter wallets given the wallet's key
/// reference (the Chain layer in production, fakes in tests).
/// </summary>
public sealed record ChainConnector(Func<ChainConfig, IChainNode> Node, Func<ChainConfig, string, ITxSigner> Signer);

/// <summary>
/// Runs one <see cref="ChainSender"/> per minter wallet of each configured chain in this process. Several instances may
/// run: the signer lease in the store makes exactly one of them the writer of each wallet. A chain's wallets tick in
/// turn, the first one changing after every round in which a wallet took batches, each taking its share of the batches ready; then the chain's
/// treasury, if it has one, tops up those wallets (PipelineWorker.Treasury.cs).
/// </summary>
public sealed partial class PipelineWorker(
    IPipelineStore store, ITenancyStore tenancy, ChainConnector connector, IOptions<PipelineOptions> options, TimeProvider time, ILogger<PipelineWorker> log,
    MintQueueSignal? queued = null) : BackgroundService
{
    /// <summary>The next tick after sends on a chain that mines as txs arrive: to reconcile them and send what queued meanwhile.</summary>
    private static readonly TimeSpan QuickTickAtMost = TimeSpan.FromMilliseconds(50);

    /// <summary>A wallet ticked in the last round sends at once (<see cref="ChainSender.SendsAtOnce"/>): accepted requests wake the worker.</summary>
    private bool _atOnce;

    /// <summary>By (chain, key reference): the sender and the chain settings it was built with.</summary>
    private readonly Dictionary<string, (string Settings, ChainSender Sender)> _senders = new(StringComparer.Ordinal);
    private int _round;

    /// <summary>
    /// Some wallet took batches in the last round: the next round starts with the next wallet. Rounds that took nothing do
    /// not turn it: where requests wake the worker (<see cref="MintQueueSignal"/>), a round with work and a quick tick
    /// without alternate, and turning every round let the same wallet come first whenever there was work.
    /// </summary>
    private bool _rotate = true;
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
            _atOnce = false;
            try
            {
                var chains = await tenancy.ListChainsAsync(stoppingToken).ConfigureAwait(false);
                await DropRemovedAsync(chains, stoppingToken).ConfigureAwait(false);
                await DropRemovedTreasuriesAsync(chains, stoppingToken).ConfigureAwait(false);
                if (_rotate)
                {
                    _round++;
                }
                _rotate = false;
                foreach (var chain in chains)
                {
                    quick |= await TickChainAsync(chain, o, crash, stoppingToken).ConfigureAwait(false);
                }
                failures = 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures++;
                LoopFailed(log, ex);
            }
            try
            {
                await PauseAsync(o, quick, failures, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// Between rounds: a back-off after repeated store failures; else the quick tick right after sends on a chain that
    /// mines as txs arrive; else the poll interval, which a request accepted here ends early while a wallet sends at once
    /// (<see cref="ChainSender.SendsAtOnce"/>): it goes out at once, not at the next poll (a quick tick's spacing at least).
    /// </summary>
    private async Task PauseAsync(PipelineOptions o, bool quick, int failures, CancellationToken ct)
    {
        var quickTick = o.PollInterval / 10 < QuickTickAtMost ? o.PollInterval / 10 : QuickTickAtMost;
        if (failures > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(30_000, o.PollInterval.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 10)))), time, ct).ConfigureAwait(false);
        }
        else if (quick)
        {
            await Task.Delay(quickTick, time, ct).ConfigureAwait(false);
        }
        else if (_atOnce && queued is not null)
        {
            await Task.Delay(quickTick, time, ct).ConfigureAwait(false);
            await queued.WaitAsync(o.PollInterval - quickTick, time, ct).ConfigureAwait(false);
        }
        else
        {
            await Task.Delay(o.PollInterval, time, ct).ConfigureAwait(false);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (_, sender) in _senders.Values)
        {
            await ReleaseAsync(sender, cancellationToken).ConfigureAwait(false);
        }
        foreach (var (_, treasury) in _treasuries.Values)
        {
            await ReleaseTreasuryAsync(treasury, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Ticks every wallet of the chain, one after the other (they plan from one queue), starting with a different one after
    /// each round that took batches; each takes a share of the batches ready: 1/n for the first of n, 1/(n-1) of what is left for the next... (n counting
    /// the wallets this instance holds the lease of and those it does not hold, whose holders take their part).
    /// Returns true when one of them wants a quick next tick.
    /// </summary>
    private async Task<bool> TickChainAsync(ChainConfig chain, PipelineOptions o, CrashPoints crash, CancellationToken ct)
    {
        var senders = Senders(chain, o, crash);
        var quick = false;
        using var passEnd = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var keep = KeepLeasesAsync(senders, o.LeaseDuration / 3, passEnd.Token);
        try
        {
            quick = await TickWalletsAsync(chain, senders, ct).ConfigureAwait(false);
            await TickTreasuryAsync(chain, senders, o, crash, ct).ConfigureAwait(false);
        }
        finally
        {
            await passEnd.CancelAsync().ConfigureAwait(false);
            await keep.ConfigureAwait(false);
        }
        return quick;
    }

    private async Task<bool> TickWalletsAsync(ChainConfig chain, List<ChainSender> senders, CancellationToken ct)
    {
        var quick = false;
        for (var i = 0; i < senders.Count; i++)
        {
            var sender = senders[(i + _round) % senders.Count];
            // The share counts the wallets still to tick here that this instance holds, and the wallets whose lease it does
            // not hold (another instance's, which take their part there): two instances holding one wallet each split a
            // backlog instead of the first to plan taking all of it. What a wallet leaves is taken on later ticks.
            var share = 1 + Enumerable.Range(i + 1, senders.Count - i - 1).Count(j => senders[(j + _round) % senders.Count].Holding)
                + senders.Count(s => !ReferenceEquals(s, sender) && !s.Holding);
            try
            {
                await sender.TickAsync(share, ct).ConfigureAwait(false);
                quick |= sender.WantsQuickTick;
                _atOnce |= sender.SendsAtOnce;
                _rotate |= sender.TookBatches;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                TickFailed(log, ex, chain.Name);
            }
        }
        return quick;
    }

    /// <summary>
    /// While the chain's wallets tick one after the other, renews every lease this instance holds each third of the lease
    /// duration, so a round that runs long on a starved machine (or the other wallets' rounds) does not let a lease lapse and
    /// hand the signer to another instance mid-pass. A failed renewal is retried at the next beat; the lease's expiry is the limit.
    /// </summary>
    private async Task KeepLeasesAsync(List<ChainSender> senders, TimeSpan every, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, time, ct).ConfigureAwait(false);
                foreach (var sender in senders)
                {
                    await sender.RenewLeaseAsync(ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LoopFailed(log, ex);
            }
        }
    }

    /// <summary>The senders of the chain's wallets (none without a minter key); two references to one account make one sender.</summary>
    private List<ChainSender> Senders(ChainConfig chain, PipelineOptions o, CrashPoints crash)
    {
        var senders = new List<ChainSender>();
        foreach (var keyRef in chain.Minters)
        {
            if (Sender(chain, keyRef, o, crash) is { } sender && senders.TrueForAll(s => s.Signer != sender.Signer))
            {
                senders.Add(sender);
            }
        }
        return senders;
    }

    private ChainSender? Sender(ChainConfig chain, string keyRef, PipelineOptions o, CrashPoints crash)
    {
        var key = $"{chain.Name}|{keyRef}";
        var settings = $"{string.Join(",", chain.RpcUrls)}|{chain.Confirmations}|{string.Join(";", chain.Minters)}|{chain.LowBalanceWei}";
        if (_senders.TryGetValue(key, out var known) && known.Settings == settings)
        {
            return known.Sender;
        }
        if (_setupRetryAt.TryGetValue(key + settings, out var retryAt) && time.GetUtcNow() < retryAt)
        {
            return null;
        }
        try
        {
            // Same instance id: a replacement (the chain's settings changed) keeps the lease its predecessor held.
            var context = new SenderContext(chain, connector.Signer(chain, keyRef), _instance, connector.Node(chain), store, o, time, log, crash) { Wallets = chain.Minters.Count, WalletIndex = IndexOf(chain.Minters, keyRef) };
            var sender = new ChainSender(context, tenancy);
            _senders[key] = (settings, sender);
            return sender;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            // A missing key file or variable: say so, and look again later (the operator may fix it live).
            SetupFailed(log, chain.Name, ex.Message);
            _setupRetryAt[key + settings] = time.GetUtcNow() + TimeSpan.FromSeconds(30);
            return null;
        }
    }

    private static int IndexOf(IReadOnlyList<string> refs, string keyRef)
    {
        for (var i = 0; i < refs.Count; i++)
        {
            if (refs[i] == keyRef)
            {
                return i;
            }
        }
        return 0;
    }

    /// <summary>Wallets (or chains) no longer configured: their senders stop and give up their leases at once.</summary>
    private async Task DropRemovedAsync(IReadOnlyList<ChainConfig> chains, CancellationToken ct)
    {
        var configured = chains.SelectMany(c => c.Minters.Select(r => $"{c.Name}|{r}")).ToHashSet(StringComparer.Ordinal);
        foreach (var key in _senders.Keys.Where(k => !configured.Contains(k)).ToList())
        {
            var (_, sender) = _senders[key];
            _senders.Remove(key);
            if (!_senders.Values.Any(s => s.Sender.Signer == sender.Signer))
            {
                await ReleaseAsync(sender, ct).ConfigureAwait(false);
            }
        }
    }

    private Task ReleaseAsync(ChainSender sender, CancellationToken ct) => ReleaseAsync(sender.ReleaseAsync, "(release)", ct);

    /// <summary>Gives a lease up; a failure is logged (the lease then lapses at its expiry).</summary>
    private async Task ReleaseAsync(Func<CancellationToken, Task> release, string what, CancellationToken ct)
    {
        try
        {
            await release(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            TickFailed(log, ex, what);
        }
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Error, Message = "Pipeline tick failed for chain {Chain}")]
    private static partial void TickFailed(ILogger log, Exception ex, string chain);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "Pipeline loop failed")]
    private static partial void LoopFailed(ILogger log, Exception ex);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Error, Message = "Chain {Chain}: cannot start minting: {Reason}")]
    private static partial void SetupFailed(ILogger log, string chain, string reason);
}
