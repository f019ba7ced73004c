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
