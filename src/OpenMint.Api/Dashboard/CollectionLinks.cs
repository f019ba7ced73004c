using OpenMint.Chain;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;

namespace OpenMint.Api.Dashboard;

/// <summary>Why a collection was not linked; the page says each in words.</summary>
public enum LinkRefusal { BadAddress, UnknownChain, UnknownProject, AlreadyLinked, NotACollection, ChainUnreachable }

/// <summary>What linking did: the collection and whether the chain's minter holds MINTER_ROLE (null: not asked), or why not.</summary>
public sealed record LinkResult(Collection? Linked, bool? MinterHasRole, LinkRefusal? Refused);

/// <summary>
/// Linking a collection from the dashboard, as <c>openmint collection add</c> does: kind and preset read from the contract
/// (<see cref="CollectionKindDetector"/>), then whether the chain's minter holds MINTER_ROLE, which the page reports with
/// the <c>grant-minter</c> command that fixes it. Also the collections page's MINTER_ROLE column.
/// </summary>
public sealed class CollectionLinks(ITenancyStore tenancy, ChainConnector connector, TimeProvider time)
{
    private static readonly TimeSpan RpcDeadline = TimeSpan.FromSeconds(5);
    private static readonly HttpClient Http = new();

    public async Task<LinkResult> LinkAsync(string chainName, string address, string projectId, CancellationToken ct)
    {
        if (!EthAddress.TryParse(address.Trim(), out var lower))
        {
            return new LinkResult(null, null, LinkRefusal.BadAddress);
        }
        if (await tenancy.GetChainAsync(chainName, ct).ConfigureAwait(false) is not { } chain)
        {
            return new LinkResult(null, null, LinkRefusal.UnknownChain);
        }
        if (await tenancy.GetProjectAsync(projectId, ct).ConfigureAwait(false) is null)
        {
            return new LinkResult(null, null, LinkRefusal.UnknownProject);
        }
        if (await tenancy.GetCollectionAsync(chain.Name, lower, ct).ConfigureAwait(false) is not null)
        {
            return new LinkResult(null, null, LinkRefusal.AlreadyLinked);
        }
        PresetVariant? variant;
        try
        {
            using var deadline = Deadline(ct);
            variant = await CollectionKindDetector.DetectVariantAsync(Eth(chain), lower, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcTransportException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return new LinkResult(null, null, LinkRefusal.ChainUnreachable);
        }
        if (variant is not { } v)
        {
            return new LinkResult(null, null, LinkRefusal.NotACollection);
        }
        var kind = v == PresetVariant.Erc1155 ? CollectionKind.Erc1155 : CollectionKind.Erc721;
        var linked = await tenancy.AddCollectionAsync(new Collection(0, chain.Name, lower, projectId, kind, v, null, true, time.GetUtcNow()), ct).ConfigureAwait(false);
        return new LinkResult(linked, await MinterRoleAsync(chain, lower, ct).ConfigureAwait(false), null);
    }

    /// <summary>Whether each collection's chain minter holds MINTER_ROLE on it; null where it could not be asked.</summary>
    public async Task<IReadOnlyDictionary<long, bool?>> MinterRolesAsync(IReadOnlyList<Collection> collections, CancellationToken ct)
    {
        var chains = (await tenancy.ListChainsAsync(ct).ConfigureAwait(false)).ToDictionary(c => c.Name, StringComparer.Ordinal);
        var roles = await Task.WhenAll(collections.Select(async c =>
            (c.Id, chains.TryGetValue(c.ChainName, out var chain) ? await MinterRoleAsync(chain, c.Address, ct).ConfigureAwait(false) : null))).ConfigureAwait(false);
        return roles.ToDictionary(r => r.Id, r => r.Item2);
    }

    private async Task<bool?> MinterRoleAsync(ChainConfig chain, string address, CancellationToken ct)
    {
        try
        {
            using var deadline = Deadline(ct);
            if (chain.Minters.Count == 0)
            {
                return null;
            }
            // Every minter wallet of the chain must hold it: each sends mints.
            var eth = Eth(chain);
            foreach (var keyRef in chain.Minters)
            {
                if (!await CollectionKindDetector.HasMinterRoleAsync(eth, address, connector.Signer(chain, keyRef).Address, deadline.Token).ConfigureAwait(false))
                {
                    return false;
                }
            }
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or RpcTransportException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    private static EthClient Eth(ChainConfig chain) => new(new JsonRpcClient(Http, chain.RpcUrls.Select(u => new Uri(u)).ToList(), RpcDeadline));

    private static CancellationTokenSource Deadline(CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(RpcDeadline);
        return cts;
    }
}
