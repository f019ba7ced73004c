using Microsoft.Extensions.Logging;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>The worker's part for treasuries: one <see cref="TreasurySender"/> per chain with a treasury, ticked after the chain's wallets.</summary>
public sealed partial class PipelineWorker
{
    /// <summary>By chain: the treasury sender and the chain settings it was built with.</summary>
    private readonly Dictionary<string, (string Settings, TreasurySender Sender)> _treasuries = new(StringComparer.Ordinal);

    /// <summary>Tops up the wallets of <paramref name="senders"/> from the chain's treasury, if it has one (a failure is logged, the wallets go on).</summary>
    private async Task TickTreasuryAsync(ChainConfig chain, List<ChainSender> senders, PipelineOptions o, CrashPoints crash, CancellationToken ct)
    {
        if (chain.TreasuryKeyRef is null || senders.Count == 0 || Treasury(chain, senders, o, crash) is not { } treasury)
        {
            return;
        }
        try
        {
            await treasury.TickAsync([.. senders.Select(s => s.Signer)], ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            TickFailed(log, ex, chain.Name + " (treasury)");
        }
    }

    private TreasurySender? Treasury(ChainConfig chain, List<ChainSender> senders, PipelineOptions o, CrashPoints crash)
    {
        var settings = $"{string.Join(",", chain.RpcUrls)}|{chain.TreasuryKeyRef}|{chain.LowBalanceWei}|{chain.TopUpToWei}|{chain.ChainId}";
        if (_treasuries.TryGetValue(chain.Name, out var known) && known.Settings == settings)
        {
            return known.Sender;
        }
        var retryKey = $"{chain.Name}|treasury|{settings}";
        if (_setupRetryAt.TryGetValue(retryKey, out var retryAt) && time.GetUtcNow() < retryAt)
        {
            return null;
        }
        try
        {
            var signer = connector.Signer(chain, chain.TreasuryKeyRef!);
            if (senders.Any(s => string.Equals(s.Signer, signer.Address, StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidOperationException($"the treasury {signer.Address} is also a minter wallet of the chain; give the treasury a key of its own (openmint chain update --name {chain.Name} --treasury-key-file <path>)");
            }
            var sender = new TreasurySender(chain, signer, _instance, connector.Node(chain), store, o, time, log, crash);
            _treasuries[chain.Name] = (settings, sender);
            return sender;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            SetupFailed(log, chain.Name, "treasury: " + ex.Message);
            _setupRetryAt[retryKey] = time.GetUtcNow() + TimeSpan.FromSeconds(30);
            return null;
        }
    }

    /// <summary>Treasuries no longer configured (or whose chain is gone) give up their leases at once.</summary>
    private async Task DropRemovedTreasuriesAsync(IReadOnlyList<ChainConfig> chains, CancellationToken ct)
    {
        var configured = chains.Where(c => c.TreasuryKeyRef is not null).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in _treasuries.Keys.Where(k => !configured.Contains(k)).ToList())
        {
            var (_, sender) = _treasuries[name];
            _treasuries.Remove(name);
            await ReleaseTreasuryAsync(sender, ct).ConfigureAwait(false);
        }
    }

    private Task ReleaseTreasuryAsync(TreasurySender sender, CancellationToken ct) => ReleaseAsync(sender.ReleaseAsync, "(treasury release)", ct);
}
