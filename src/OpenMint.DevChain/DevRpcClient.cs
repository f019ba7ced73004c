using OpenMint.Chain;

namespace OpenMint.DevChain;

/// <summary>The Chain layer's JSON-RPC client over one shared HttpClient, for starting and provisioning dev chains.</summary>
internal static class DevRpcClient
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public static JsonRpcClient For(Uri url) => new(Http, url, TimeSpan.FromSeconds(60));
}
