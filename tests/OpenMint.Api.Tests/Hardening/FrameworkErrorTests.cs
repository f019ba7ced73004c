using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using OpenMint.Api.Tests.Minting;

namespace OpenMint.Api.Tests.Hardening;

/// <summary>Requests Kestrel refuses before any endpoint runs still get the contract's JSON error body.</summary>
public sealed class FrameworkErrorTests(MintingServerFixture server) : IClassFixture<MintingServerFixture>
{
    public static TheoryData<string, int, string> Refusals => new()
    {
        { "GARBAGE\r\n\r\n", 400, "VALIDATION_ERROR" },
        { "GET /v1/x HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", 400, "VALIDATION_ERROR" },
        { $"GET /{new string('a', 20_000)} HTTP/1.1\r\nHost: a\r\n\r\n", 414, "URI_TOO_LONG" },
        { "GET /health HTTP/1.1\r\nHost: a\r\n" + string.Concat(Enumerable.Range(0, 10).Select(i => $"X-Big-{i}: {new string('b', 8000)}\r\n")) + "\r\n", 431, "REQUEST_HEADER_FIELDS_TOO_LARGE" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task framework_level_refusals_answer_with_the_json_error_shape(string request, int status, string code)
    {
        var uri = new Uri(server.BaseUrl);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var read = new MemoryStream();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var buffer = new byte[8192];
        int n;
        while ((n = await stream.ReadAsync(buffer, deadline.Token)) > 0)
        {
            read.Write(buffer, 0, n);
        }
        var text = Encoding.UTF8.GetString(read.ToArray());
        Assert.StartsWith($"HTTP/1.1 {status} ", text, StringComparison.Ordinal);
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = text[..split];
        var body = text[(split + 4)..];
        Assert.Contains("Content-Type: application/json", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"Content-Length: {Encoding.UTF8.GetByteCount(body)}", head, StringComparison.Ordinal);
        var json = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(code, (string?)json["code"]);
        foreach (var key in new[] { "code", "message", "details", "link", "trace_id" })
        {
            Assert.True(json.ContainsKey(key), $"{key} missing: {body}");
        }
    }
}
