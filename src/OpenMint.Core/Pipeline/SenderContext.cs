using Microsoft.Extensions.Logging;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// What every part of one sender shares: which signer it writes for on which chain (as which instance), and the
/// node, store, options, clock, log and crash hook it works with.
/// </summary>
internal sealed record SenderContext(ChainConfig Chain, ITxSigner Signer, string Instance, IChainNode Node, IPipelineStore Store,
    PipelineOptions Options, TimeProvider Time, ILogger Log, CrashPoints Crash)
{
    public string ChainName => Chain.Name;

    public string Address => Signer.Address;

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>How many minter wallets the chain has (each with its own sender); 1 for a chain's only wallet.</summary>
    public int Wallets { get; init; } = 1;

    /// <summary>The chain has other wallets: this one steps aside (gives its unsent work back) while it cannot mint.</summary>
    public bool Shared => Wallets > 1;

    /// <summary>The lease this sender holds now (its fence), shared by every part.</summary>
    public LeaseHolder Lease { get; } = new();
}

/// <summary>
/// The fence of the lease a sender holds, or none. Every part presents it with each write for a nonce; when the store
/// refuses one (the lease moved on), <see cref="Refused"/> drops it and the sender stops the tick at once: nothing
/// more is written or signed until the lease is taken again and the nonce re-synced.
/// </summary>
internal sealed partial class LeaseHolder
{
    public LeaseFence? Fence { get; private set; }

    public bool Holding => Fence is not null;

    public void Hold(LeaseFence fence) => Fence = fence;

    public void Lose() => Fence = null;

    /// <summary>A fenced write changed nothing: this instance no longer holds the lease it wrote under.</summary>
    public void Refused(ILogger log, string what)
    {
        if (Fence is { } fence)
        {
            WriteFenced(log, fence.ChainName, fence.Signer, fence.Instance, fence.Epoch, what);
        }
        Fence = null;
    }

    [LoggerMessage(EventId = 4019, Level = LogLevel.Warning, Message = "Chain {Chain}: signer {Signer}: instance {Instance} lost lease epoch {Epoch}; its write ({What}) changed nothing, stopping")]
    private static partial void WriteFenced(ILogger log, string chain, string signer, string instance, long epoch, string what);
}

/// <summary>Collections by id, read once per sender (a collection's address and kind never change).</summary>
internal sealed class CollectionCache(ITenancyStore tenancy)
{
    private readonly Dictionary<long, Collection> _collections = new();

    public async Task<Collection> GetAsync(long id, CancellationToken ct)
    {
        if (!_collections.TryGetValue(id, out var collection))
        {
            collection = await tenancy.GetCollectionByIdAsync(id, ct).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"collection {id} is gone");
            _collections[id] = collection;
        }
        return collection;
    }
}
