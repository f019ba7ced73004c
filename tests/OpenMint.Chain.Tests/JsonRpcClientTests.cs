using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace OpenMint.Chain.Tests;

public sealed class JsonRpcClientTests
{
    private static string Id(string body) => JsonDocument.Parse(body).RootElement.GetProperty("id").GetRawText();

    [Fact]
    public async Task a_call_sends_a_json_rpc_2_request_and_returns_the_result()
    {
        await using var node = await FakeNode.StartAsync((ctx, body) =>
            FakeNode.WriteJsonAsync(ctx, "{\"jsonrpc\":\"2.0\",\"id\":" + Id(body) + ",\"result\":{\"ok\":[1,2]}}"));
        var result = await node.Client().CallAsync("test_method", ["a", 5L, true, null, new byte[] { 0xab }, new System.Numerics.BigInteger(255)], CancellationToken.None);
        Assert.Equal(2, result.GetProperty("ok").GetArrayLength());
        Assert.True(node.Requests.TryDequeue(out var sent));
        using var request = JsonDocument.Parse(sent);
        Assert.Equal("2.0", request.RootElement.GetProperty("jsonrpc").GetString());
        Assert.Equal("test_method", request.RootElement.GetProperty("method").GetString());
        Assert.Equal("[\"a\",5,true,null,\"0xab\",\"0xff\"]", request.RootElement.GetProperty("params").GetRawText());
    }

    [Fact]
    public async Task a_null_result_is_a_result_not_an_error()
    {
        await using var node = await FakeNode.StartAsync((ctx, body) =>
            FakeNode.WriteJsonAsync(ctx, "{\"jsonrpc\":\"2.0\",\"id\":" + Id(body) + ",\"result\":null}"));
        var result = await node.Client().CallAsync("eth_getTransactionReceipt", ["0x01"], CancellationToken.None);
        Assert.Equal(JsonValueKind.Null, result.ValueKind);
    }

    [Fact]
    public async Task an_error_object_becomes_a_json_rpc_exception_with_code_message_and_data()
    {
        // Anvil's shape for a revert in eth_estimateGas / eth_call: code 3 and the revert bytes as data.
        const string revert = "0x08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000001a4e6f7420656e6f7567682045746865722070726f76696465642e000000000000";
        await using var node = await FakeNode.StartAsync((ctx, body) => FakeNode.WriteJsonAsync(ctx,
            "{\"jsonrpc\":\"2.0\",\"id\":" + Id(body) + ",\"error\":{\"code\":3,\"message\":\"execution reverted: Not enough Ether provided.\",\"data\":\"" + revert + "\"}}"));
        var error = await Assert.ThrowsAsync<JsonRpcException>(() => node.Client().CallAsync("eth_estimateGas", [], CancellationToken.None));
        Assert.Equal(3, error.Code);
        Assert.Equal("execution reverted: Not enough Ether provided.", error.RpcMessage);
        Assert.Equal("\"" + revert + "\"", error.Data);
        Assert.Equal(revert, error.DataHex);
        Assert.Equal("Not enough Ether provided.", error.RevertReasonText);
    }

    [Fact]
    public async Task nested_and_non_hex_error_data_are_kept_raw()
    {
        await using var node = await FakeNode.StartAsync((ctx, body) => FakeNode.WriteJsonAsync(ctx,
            "{\"jsonrpc\":\"2.0\",\"id\":" + Id(body) + ",\"error\":{\"code\":-32000,\"message\":\"reverted\",\"data\":{\"message\":\"x\",\"data\":\"0xb73c99f5\"}}}"));
        var error = await Assert.ThrowsAsync<JsonRpcException>(() => node.Client().CallAsync("eth_call", [], CancellationToken.None));
        Assert.Equal(-32000, error.Code);
        Assert.Equal("{\"message\":\"x\",\"data\":\"0xb73c99f5\"}", error.Data);
        Assert.Equal("0xb73c99f5", error.DataHex);

        await using var plain = await FakeNode.StartAsync((ctx, body) => FakeNode.WriteJsonAsync(ctx,
            "{\"jsonrpc\":\"2.0\",\"id\":" + Id(body) + ",\"error\":{\"code\":-32003,\"message\":\"nonce too low\",\"data\":\"not hex\"}}"));
        var pool = await Assert.ThrowsAsync<JsonRpcException>(() => plain.Client().CallAsync("eth_sendRawTransaction", [], CancellationToken.None));
        Assert.Equal(-32003, pool.Code);
        Assert.Equal("nonce too low", pool.RpcMessage);
        Assert.Null(pool.DataHex);
    }

    [Fact]
    public async Task batch_answers_out_of_order_are_matched_by_id()
    {
        await using var node = await FakeNode.StartAsync((ctx, body) =>
        {
            using var doc = JsonDocument.Parse(body);
            var answers = doc.RootElement.EnumerateArray().Reverse().Select(request =>
            {
                var id = request.GetProperty("id").GetRawText();
                var method = request.GetProperty("method").GetString();
                return method == "boom"
                    ? "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":{\"code\":-32000,\"message\":\"boom\"}}"
                    : "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":\"" + method + "\"}";
            });
            return FakeNode.WriteJsonAsync(ctx, "[" + string.Join(",", answers) + "]");
        });
        var results = await node.Client().BatchAsync([("first", []), ("boom", []), ("third", ["x"])], CancellationToken.None);
        Assert.Equal(3, results.Count);
        Assert.Equal("first", results[0].Result!.Value.GetString());
        Assert.Null(results[1].Result);
        Assert.Equal("boom", results[1].Error!.RpcMessage);
        Assert.Equal("third", results[2].GetResultOrThrow().GetString());
        Assert.True(node.Requests.TryDequeue(out var sent));
        Assert.Equal(3, JsonDocument.Parse(sent).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task a_batch_with_a_missing_answer_is_a_transport_failure()
    {
        await using var node = await FakeNode.StartAsync((ctx, body) =>
        {
            using var doc = JsonDocument.Parse(body);
            var first = doc.RootElement[0].GetProperty("id").GetRawText();
            return FakeNode.WriteJsonAsync(ctx, "[{\"jsonrpc\":\"2.0\",\"id\":" + first + ",\"result\":1}]");
        });
        await Assert.ThrowsAsync<RpcTransportException>(() => node.Client().BatchAsync([("a", []), ("b", [])], CancellationToken.None));
    }

    [Fact]
    public async Task a_batch_refused_as_a_whole_throws_the_nodes_error()
    {
        await using var node = await FakeNode.StartAsync((ctx, _) =>
            FakeNode.WriteJsonAsync(ctx, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"batch requests are not supported\"}}"));
        var error = await Assert.ThrowsAsync<JsonRpcException>(() => node.Client().BatchAsync([("a", [])], CancellationToken.None));
        Assert.Equal(-32600, error.Code);
    }

    [Fact]
    public async Task an_empty_batch_sends_nothing()
    {
        await using var node = await FakeNode.StartAsync((ctx, _) => FakeNode.WriteJsonAsync(ctx, "[]"));
        Assert.Empty(await node.Client().BatchAsync([], CancellationToken.None));
        Assert.Empty(node.Requests);
    }

    [Fact]
    public async Task http_500_is_a_transport_failure()
    {
        await using var node = await FakeNode.StartAsync((ctx, _) => FakeNode.WriteJsonAsync(ctx, "{\"error\":\"upstream\"}", 500));
        var error = await Assert.ThrowsAsync<RpcTransportException>(() => node.Client().CallAsync("eth_chainId", [], CancellationToken.None));
        Assert.Contains("500", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTimeout);
    }

    [Fact]
    public async Task an_http_4xx_carrying_a_json_rpc_error_is_the_nodes_error_but_a_bare_404_is_transport()
    {
        await using var limited = await FakeNode.StartAsync((ctx, body) => FakeNode.WriteJsonAsync(ctx,
            "{\"jsonrpc\":\"2.0\",\"id\":" + Id(body) + ",\"error\":{\"code\":-32005,\"message\":\"rate limited\"}}", 429));
        Assert.Equal(-32005, (await Assert.ThrowsAsync<JsonRpcException>(() => limited.Client().CallAsync("eth_chainId", [], CancellationToken.None))).Code);

        await using var missing = await FakeNode.StartAsync((ctx, _) => FakeNode.WriteJsonAsync(ctx, "{\"message\":\"not found\"}", 404));
        await Assert.ThrowsAsync<RpcTransportException>(() => missing.Client().CallAsync("eth_chainId", [], CancellationToken.None));
    }

    [Theory]
    [InlineData("<html>bad gateway</html>")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":999999,\"result\":\"0x1\"}")]
    [InlineData("{\"jsonrpc\":\"2.0\"}")]
    [InlineData("[1,2,3]")]
    [InlineData("")]
    public async Task unparseable_or_mismatched_answers_are_transport_failures(string answer)
    {
        await using var node = await FakeNode.StartAsync((ctx, _) => FakeNode.WriteJsonAsync(ctx, answer));
        await Assert.ThrowsAsync<RpcTransportException>(() => node.Client().CallAsync("eth_chainId", [], CancellationToken.None));
    }

    [Fact]
    public async Task a_slow_node_hits_the_per_call_timeout_as_a_transport_failure()
    {
        await using var node = await FakeNode.StartAsync(async (ctx, body) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        var error = await Assert.ThrowsAsync<RpcTransportException>(() =>
            node.Client(TimeSpan.FromMilliseconds(200)).CallAsync("eth_sendRawTransaction", ["0x00"], CancellationToken.None));
        Assert.True(error.IsTimeout);
    }

    [Fact]
    public async Task caller_cancellation_is_an_operation_cancelled_exception_not_a_transport_failure()
    {
        await using var node = await FakeNode.StartAsync(async (ctx, body) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var error = await Record.ExceptionAsync(() => node.Client(TimeSpan.FromSeconds(30)).CallAsync("eth_chainId", [], cts.Token));
        Assert.IsAssignableFrom<OperationCanceledException>(error);
    }

    [Fact]
    public async Task connection_refused_is_a_transport_failure()
    {
        // Reserve a free loopback port, then release it so nothing listens there.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var http = new HttpClient();
        var client = new JsonRpcClient(http, new Uri($"http://127.0.0.1:{port}/"), TimeSpan.FromSeconds(10));
        var error = await Assert.ThrowsAsync<RpcTransportException>(() => client.CallAsync("eth_chainId", [], CancellationToken.None));
        Assert.False(error.IsTimeout);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    private static Uri DeadUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    [Fact]
    public async Task with_several_urls_a_transport_failure_goes_to_the_next_url_which_then_stays_first()
    {
        await using var failing = await FakeNode.StartAsync((ctx, _) => FakeNode.WriteJsonAsync(ctx, "{\"error\":\"upstream\"}", 503));
        await using var good = await FakeNode.StartAsync((ctx, body) =>
            FakeNode.WriteJsonAsync(ctx, "{\"jsonrpc\":\"2.0\",\"id\":" + Id(body) + ",\"result\":\"0x1\"}"));
        using var http = new HttpClient();
        var client = new JsonRpcClient(http, [DeadUrl(), failing.Url, good.Url], TimeSpan.FromSeconds(5));
        Assert.Equal("0x1", (await client.CallAsync("eth_chainId", [], CancellationToken.None)).GetString());
        Assert.Equal(good.Url, client.Url);
        Assert.Single(failing.Requests);
        Assert.Equal("0x1", (await client.CallAsync("eth_chainId", [], CancellationToken.None)).GetString());
        Assert.Single(failing.Requests); // the second call went straight to the URL that answered
        Assert.Equal(2, good.Requests.Count);
    }

    [Fact]
    public async Task with_several_urls_a_nodes_error_answer_is_not_retried_elsewhere_and_all_failing_is_one_transport_failure()
    {
        await using var refusing = await FakeNode.StartAsync((ctx, body) => FakeNode.WriteJsonAsync(ctx,
            "{\"jsonrpc\":\"2.0\",\"id\":" + Id(body) + ",\"error\":{\"code\":-32003,\"message\":\"nonce too low\"}}"));
        await using var other = await FakeNode.StartAsync((ctx, body) =>
            FakeNode.WriteJsonAsync(ctx, "{\"jsonrpc\":\"2.0\",\"id\":" + Id(body) + ",\"result\":\"0x1\"}"));
        using var http = new HttpClient();
        var client = new JsonRpcClient(http, [refusing.Url, other.Url], TimeSpan.FromSeconds(5));
        var error = await Assert.ThrowsAsync<JsonRpcException>(() => client.CallAsync("eth_sendRawTransaction", ["0x00"], CancellationToken.None));
        Assert.Equal("nonce too low", error.RpcMessage);
        Assert.Empty(other.Requests);

        var allDead = new JsonRpcClient(http, [DeadUrl(), DeadUrl()], TimeSpan.FromSeconds(5));
        var down = await Assert.ThrowsAsync<RpcTransportException>(() => allDead.BatchAsync([("eth_chainId", [])], CancellationToken.None));
        Assert.Contains("none of 2 RPC URLs answered", down.Message, StringComparison.Ordinal);
    }
}
