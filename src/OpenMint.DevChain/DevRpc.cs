using System.Globalization;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;

namespace OpenMint.DevChain;

/// <summary>Minimal JSON-RPC for starting and provisioning a dev chain (the full client lives in OpenMint.Chain).</summary>
internal sealed class DevRpc(Uri url) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private long _id;

    public async Task<JsonElement> CallAsync(string method, object?[] parameters, CancellationToken ct)
    {
        var body = new { jsonrpc = "2.0", id = Interlocked.Increment(ref _id), method, @params = parameters };
        using var response = await _http.PostAsJsonAsync(url, body, ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), cancellationToken: ct).ConfigureAwait(false);
        if (doc.RootElement.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"{method} failed: {error.GetRawText()}");
        }
        return doc.RootElement.GetProperty("result").Clone();
    }

    public static long ToLong(JsonElement hex) => long.Parse(hex.GetString()!.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    public static string Quantity(BigInteger value) => "0x" + (value.IsZero ? "0" : value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0'));

    public void Dispose() => _http.Dispose();
}
