using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using OpenMint.Api.Auth;
using OpenMint.Core;
using OpenMint.Chain;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Api.Endpoints;

/// <summary>The tenancy a Minting API call acts in: the caller's key, and the chain, collection and project of the path.</summary>
internal sealed record MintingTarget(ApiKey Key, ChainConfig Chain, Collection Collection, Project Project);

/// <summary>
/// Authenticates and resolves <c>/v1/chains/{chain}/collections/{address}</c> in the order of docs/api.md's
/// table: key (401), path (400/404), ownership (403). Tenancy rows are remembered for two seconds:
/// operator changes (minting_enabled, limits) take effect within that.
/// </summary>
internal sealed class MintingContext(ApiKeyAuthenticator auth, ITenancyStore tenancy, TimeProvider time)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<(string, string), (ChainConfig? Chain, Collection? Collection, DateTimeOffset Until)> _collections = new();
    private readonly ConcurrentDictionary<string, (Project? Project, DateTimeOffset Until)> _projects = new(StringComparer.Ordinal);

    public async ValueTask<Checked<MintingTarget>> ResolveAsync(HttpRequest request, string chainName, string contractAddress, CancellationToken ct)
    {
        var key = await auth.AuthenticateAsync(request, ct).ConfigureAwait(false);
        if (key is null)
        {
            return ApiErrors.Unauthorised(ApiKeyAuthenticator.MissingKeyProblem(request));
        }
        if (!EthAddress.TryParse(contractAddress, out var address))
        {
            return ApiErrors.ValidationError($"contract_address: \"{Texts.Shorten(contractAddress)}\" is not an address (0x followed by 40 hex characters)");
        }
        var now = time.GetUtcNow();
        if (!_collections.TryGetValue((chainName, address), out var entry) || entry.Until <= now)
        {
            var chain = await tenancy.GetChainAsync(chainName, ct).ConfigureAwait(false);
            var collection = chain is null ? null : await tenancy.GetCollectionAsync(chainName, address, ct).ConfigureAwait(false);
            entry = (chain, collection, now + CacheFor);
            if (collection is not null)
            {
                // Only hits are remembered: a collection the operator just added answers at once.
                if (_collections.Count > 10_000)
                {
                    _collections.Clear();
                }
                _collections[(chainName, address)] = entry;
            }
        }
        if (entry.Chain is null)
        {
            return ApiErrors.NotFound($"chain {Texts.Shorten(chainName)} not found");
        }
        if (entry.Collection is null)
        {
            return ApiErrors.NotFound($"collection {address} not found on chain {chainName}");
        }
        if (entry.Collection.ProjectId != key.ProjectId)
        {
            return ApiErrors.Mint(403, "AUTHENTICATION_ERROR", "API Key is not allowed to access this collection");
        }
        if (!_projects.TryGetValue(key.ProjectId, out var p) || p.Until <= now)
        {
            p = (await tenancy.GetProjectAsync(key.ProjectId, ct).ConfigureAwait(false), now + CacheFor);
            _projects[key.ProjectId] = p;
        }
        if (p.Project is null)
        {
            return ApiErrors.Unauthorised();
        }
        return new MintingTarget(key, entry.Chain, entry.Collection, p.Project);
    }
}
