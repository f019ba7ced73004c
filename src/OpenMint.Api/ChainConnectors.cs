using OpenMint.Chain;
using OpenMint.Core.Pipeline;

namespace OpenMint.Api;

/// <summary>The production way to reach a chain: its RPC URLs (in order, failing over) and each minter wallet's key, named by its reference (file: or env:).</summary>
internal static class ChainConnectors
{
    // One pooled client for every chain; connections are recycled so DNS changes are seen.
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };

    public static ChainConnector Create(PipelineOptions options) => new(
        chain =>
        {
            if (chain.RpcUrls.Count == 0)
            {
                throw new InvalidOperationException($"chain '{chain.Name}' has no RPC URL: set its rpc_urls");
            }
            return new EthChainNode(new EthClient(new JsonRpcClient(Http, chain.RpcUrls.Select(u => new Uri(u)).ToList(), options.RpcTimeout)));
        },
        (chain, keyRef) => new EthKeySigner(EthKey.FromHex(MinterKeys.ResolveHex(chain.Name, keyRef))));
}
