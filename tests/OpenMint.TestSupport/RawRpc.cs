using System.Net.Http.Json;
using System.Text.Json;

namespace OpenMint.TestSupport;

/// <summary>Plain JSON-RPC over HttpClient: an independent view of the node, to compare the Chain layer against.</summary>
public static class RawRpc
{
    private static readonly HttpClient Http = new();

    public static async Task<JsonElement> CallAsync(Uri url, string method, params object?[] parameters)
    {
        using var response = await Http.PostAsJsonAsync(url, new { jsonrpc = "2.0", id = 1, method, @params = parameters });
        response.EnsureSuccessStatusCode();
        var doc = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (doc.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException(method + ": " + error.GetRawText());
        }
        return doc.GetProperty("result");
    }
}
