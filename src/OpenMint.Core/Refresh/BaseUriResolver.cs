using System.Numerics;
using OpenMint.Chain;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Refresh;

/// <summary>
/// The base a refresh fetches from, decided once when the refresh starts: the collection's override if the
/// operator set one, else the contract's own <c>baseURI()</c> (ERC1155: <c>uri(id)</c> of the first token),
/// read through eth_call on the collection's chain. Never cached: studios change it with setBaseURI.
/// </summary>
public sealed class BaseUriResolver(ITenancyStore tenancy, HttpClient rpcHttp, RefreshOptions options)
{
    public async Task<string> ResolveAsync(RefreshToStart refresh, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(refresh.BaseUriOverride))
        {
            return refresh.BaseUriOverride;
        }
        var chain = await tenancy.GetChainAsync(refresh.ChainName, ct).ConfigureAwait(false)
            ?? throw new BaseUriUnavailableException($"chain '{refresh.ChainName}' is not configured");
        if (chain.RpcUrls.Count == 0 || !Uri.TryCreate(chain.RpcUrls[0], UriKind.Absolute, out var rpc))
        {
            throw new BaseUriUnavailableException($"chain '{refresh.ChainName}' has no RPC URL; set one, or set the collection's base URI override");
        }
        var eth = new EthClient(new JsonRpcClient(rpcHttp, rpc, options.RpcTimeout));
        var call = refresh.Kind == CollectionKind.Erc1155
            ? Abi.EncodeCall("uri(uint256)", BigInteger.Parse(refresh.FirstTokenId, System.Globalization.CultureInfo.InvariantCulture))
            : Abi.EncodeCall("baseURI()");
        byte[] result;
        try
        {
            result = await eth.CallAsync(new CallRequest(null, refresh.CollectionAddress, call), "latest", ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is JsonRpcException or RpcTransportException)
        {
            throw new BaseUriUnavailableException($"{(refresh.Kind == CollectionKind.Erc1155 ? "uri(uint256)" : "baseURI()")} call failed: {ex.Message}", ex);
        }
        try
        {
            var uri = (string?)Abi.Decode(["string"], result)[0];
            return string.IsNullOrWhiteSpace(uri)
                ? throw new BaseUriUnavailableException("the contract returned an empty base URI; call setBaseURI or set the collection's base URI override")
                : uri;
        }
        catch (Exception ex) when (ex is not BaseUriUnavailableException)
        {
            throw new BaseUriUnavailableException($"the contract's base URI could not be decoded: {ex.Message}", ex);
        }
    }
}

/// <summary>Expected: the base URI of a refresh cannot be known; its tokens fail with unable_to_retrieve_metadata.</summary>
public sealed class BaseUriUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
