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
        var rpc = chain.RpcUrls.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri : null).OfType<Uri>().ToList();
        if (rpc.Count == 0)
        {
            throw new BaseUriUnavailableException($"chain '{refresh.ChainName}' has no RPC URL; set one, or set the collection's base URI override");
        }
        var call = refresh.Kind == CollectionKind.Erc1155
            ? Abi.EncodeCall("uri(uint256)", BigInteger.Parse(refresh.FirstTokenId, System.Globalization.CultureInfo.InvariantCulture))
            : Abi.EncodeCall("baseURI()");
        var what = refresh.Kind == CollectionKind.Erc1155 ? "uri(uint256)" : "baseURI()";
        var result = await EthCallAsync(rpc, refresh.CollectionAddress, call, what, ct).ConfigureAwait(false);
        try
        {
            var uri = (string?)Abi.Decode(["string"], result)[0];
            return string.IsNullOrWhiteSpace(uri)
                ? throw new BaseUriUnavailableException($"{what} of {refresh.CollectionAddress} returned an empty base URI; call setBaseURI or set the collection's base URI override")
                : uri;
        }
        catch (Exception ex) when (ex is not BaseUriUnavailableException)
        {
            throw new BaseUriUnavailableException($"{what} of {refresh.CollectionAddress} did not return a string (is it an ImmutableERC721/1155 preset?): {ex.Message}", ex);
        }
    }

    /// <summary>One eth_call at "latest"; a revert, an RPC error or no answer become <see cref="BaseUriUnavailableException"/>.</summary>
    private async Task<byte[]> EthCallAsync(IReadOnlyList<Uri> rpc, string to, byte[] data, string what, CancellationToken ct)
    {
        var eth = new EthClient(new JsonRpcClient(rpcHttp, rpc, options.RpcTimeout));
        try
        {
            return await eth.CallAsync(new CallRequest(null, to, data), "latest", ct).ConfigureAwait(false);
        }
        catch (JsonRpcException ex)
        {
            throw new BaseUriUnavailableException($"{what} call failed: {ex.RpcMessage}", ex);
        }
        catch (RpcTransportException ex)
        {
            throw new BaseUriUnavailableException($"{what} call failed: {ex.Message}", ex);
        }
    }
}

/// <summary>Expected: the base URI of a refresh cannot be known; its tokens fail with unable_to_retrieve_metadata.</summary>
public sealed class BaseUriUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
