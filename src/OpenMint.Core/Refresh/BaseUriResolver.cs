using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using OpenMint.Chain;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Refresh;

/// <summary>
/// The base a refresh fetches from, decided once when the refresh starts: the collection's override if the
/// operator set one, else the contract's own <c>baseURI()</c> (ERC1155: <c>uri(id)</c> of the first token),
/// read through eth_call on the collection's chain (a plain JSON-RPC call; EthClient can replace it). Never cached: studios change it with setBaseURI.
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
        var call = refresh.Kind == CollectionKind.Erc1155
            ? Abi.EncodeCall("uri(uint256)", BigInteger.Parse(refresh.FirstTokenId, System.Globalization.CultureInfo.InvariantCulture))
            : Abi.EncodeCall("baseURI()");
        var result = await EthCallAsync(rpc, refresh.CollectionAddress, call, refresh.Kind == CollectionKind.Erc1155 ? "uri(uint256)" : "baseURI()", ct).ConfigureAwait(false);
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

    /// <summary>One eth_call at "latest"; a revert, an RPC error or no answer become <see cref="BaseUriUnavailableException"/>.</summary>
    private async Task<byte[]> EthCallAsync(Uri rpc, string to, byte[] data, string what, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.RpcTimeout);
        var request = new
        {
            jsonrpc = "2.0",
            id = 1,
            method = "eth_call",
            @params = new object[] { new { to, data = Hex.Encode(data) }, "latest" },
        };
        try
        {
            using var response = await rpcHttp.PostAsJsonAsync(rpc, request, deadline.Token).ConfigureAwait(false);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(deadline.Token).ConfigureAwait(false);
            if (body.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var message = error.TryGetProperty("message", out var m) ? m.GetString() : error.GetRawText();
                throw new BaseUriUnavailableException($"{what} call failed: {message}");
            }
            if (!body.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.String)
            {
                throw new BaseUriUnavailableException($"{what} call failed: RPC answered {(int)response.StatusCode} without a result");
            }
            return Hex.Decode(result.GetString()!);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new BaseUriUnavailableException($"{what} call failed: no answer from the RPC endpoint within {options.RpcTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or FormatException or NotSupportedException)
        {
            throw new BaseUriUnavailableException($"{what} call failed: {ex.Message}", ex);
        }
    }
}

/// <summary>Expected: the base URI of a refresh cannot be known; its tokens fail with unable_to_retrieve_metadata.</summary>
public sealed class BaseUriUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
