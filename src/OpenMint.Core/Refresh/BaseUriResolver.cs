using System.Numerics;
using OpenMint.Chain;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Refresh;

/// <summary>How deciding a refresh's base URI ended: a base to fetch from, or why there is none.</summary>
public abstract record BaseUriResolution
{
    private BaseUriResolution()
    {
    }

    public sealed record Resolved(string BaseUri) : BaseUriResolution;

    /// <summary>Expected: the base cannot be known; the refresh's tokens fail with unable_to_retrieve_metadata.</summary>
    public sealed record Unavailable(string Reason) : BaseUriResolution;
}

/// <summary>
/// The base a refresh fetches from, decided once when the refresh starts: the collection's override if the
/// operator set one, else the contract's own <c>baseURI()</c> (ERC1155: <c>uri(id)</c> of the first token),
/// read through eth_call on the collection's chain. Never cached: studios change it with setBaseURI.
/// </summary>
public sealed class BaseUriResolver(ITenancyStore tenancy, HttpClient rpcHttp, RefreshOptions options)
{
    public async Task<BaseUriResolution> ResolveAsync(RefreshToStart refresh, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(refresh.BaseUriOverride))
        {
            return new BaseUriResolution.Resolved(refresh.BaseUriOverride);
        }
        var chain = await tenancy.GetChainAsync(refresh.ChainName, ct).ConfigureAwait(false);
        if (chain is null)
        {
            return new BaseUriResolution.Unavailable($"chain '{refresh.ChainName}' is not configured");
        }
        var rpc = chain.RpcUrls.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri : null).OfType<Uri>().ToList();
        if (rpc.Count == 0)
        {
            return new BaseUriResolution.Unavailable($"chain '{refresh.ChainName}' has no RPC URL; set one, or set the collection's base URI override");
        }
        var call = refresh.Kind == CollectionKind.Erc1155
            ? Abi.EncodeCall("uri(uint256)", BigInteger.Parse(refresh.FirstTokenId, System.Globalization.CultureInfo.InvariantCulture))
            : Abi.EncodeCall("baseURI()");
        var what = refresh.Kind == CollectionKind.Erc1155 ? "uri(uint256)" : "baseURI()";
        var (result, failure) = await EthCallAsync(rpc, refresh.CollectionAddress, call, what, ct).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }
        string? uri;
        try
        {
            uri = (string?)Abi.Decode(["string"], result!)[0];
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidCastException)
        {
            return new BaseUriResolution.Unavailable($"{what} of {refresh.CollectionAddress} did not return a string (is it an ImmutableERC721/1155 preset?): {ex.Message}");
        }
        return string.IsNullOrWhiteSpace(uri)
            ? new BaseUriResolution.Unavailable($"{what} of {refresh.CollectionAddress} returned an empty base URI; call setBaseURI or set the collection's base URI override")
            : new BaseUriResolution.Resolved(uri);
    }

    /// <summary>One eth_call at "latest"; a revert, an RPC error or no answer are an <see cref="BaseUriResolution.Unavailable"/>.</summary>
    private async Task<(byte[]? Result, BaseUriResolution.Unavailable? Failure)> EthCallAsync(IReadOnlyList<Uri> rpc, string to, byte[] data, string what, CancellationToken ct)
    {
        var eth = new EthClient(new JsonRpcClient(rpcHttp, rpc, options.RpcTimeout));
        try
        {
            return (await eth.CallAsync(new CallRequest(null, to, data), "latest", ct).ConfigureAwait(false), null);
        }
        catch (JsonRpcException ex)
        {
            return (null, new BaseUriResolution.Unavailable($"{what} call failed: {ex.RpcMessage}"));
        }
        catch (RpcTransportException ex)
        {
            return (null, new BaseUriResolution.Unavailable($"{what} call failed: {ex.Message}"));
        }
    }
}
