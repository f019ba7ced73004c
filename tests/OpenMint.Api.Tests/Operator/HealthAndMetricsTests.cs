using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using OpenMint.Api.Tests.Pipeline;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Operator;

/// <summary>/healthz, /readyz and /metrics on a real host minting on Anvil.</summary>
public class HealthAndMetricsTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private static readonly Dictionary<string, string?> Sampling = new() { ["Telemetry:SampleInterval"] = "00:00:00.1" };

    [Fact]
    public async Task healthz_answers_and_readyz_names_the_store_and_the_chain()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, Sampling);
        using var healthz = await server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal("healthy", (string?)JsonNode.Parse(await healthz.Content.ReadAsStringAsync())!["status"]);
        using var legacy = await server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, legacy.StatusCode);

        using var readyz = await server.Http.GetAsync("/readyz");
        var body = JsonNode.Parse(await readyz.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, readyz.StatusCode);
        Assert.Equal("healthy", (string?)body["checks"]!["store"]!["status"]);
        Assert.Equal("healthy", (string?)body["checks"]!["chain anvil"]!["status"]);
        Assert.Empty(body["failed"]!.AsArray());
    }

    [Fact]
    public async Task readyz_is_503_naming_the_chain_whose_rpc_does_not_answer()
    {
        await using var proxy = RpcFaultProxy.Start(anvil.RpcUrl);
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, Sampling, rpcUrls: [proxy.Url.ToString()]);
        proxy.SetFault(RpcFault.Refuse);

        using var readyz = await server.Http.GetAsync("/readyz");
        var body = JsonNode.Parse(await readyz.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
        Assert.Equal("unhealthy", (string?)body["status"]);
        Assert.Equal("healthy", (string?)body["checks"]!["store"]!["status"]);
        Assert.Equal("unhealthy", (string?)body["checks"]!["chain anvil"]!["status"]);
        Assert.StartsWith("chain anvil: ", (string?)Assert.Single(body["failed"]!.AsArray()));

        using var healthz = await server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        proxy.SetFault(RpcFault.None);
        using var again = await server.Http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task metrics_move_when_a_mint_is_accepted_rejected_sent_and_mined()
    {
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, Sampling);
        var collection = server.Address("erc721");
        var before = await ScrapeAsync(server);
        var accepted = Labels(("chain", "anvil"), ("collection", collection));

        var run = Guid.NewGuid().ToString("N")[..8];
        await server.PostAsync("erc721", new JsonArray(Enumerable.Range(0, 3)
            .Select(i => (JsonNode)PipelineServer.Asset($"{run}-{i}", "0x1000000000000000000000000000000000000001")).ToArray()));
        using var bad = await server.Http.PostAsync($"/v1/chains/anvil/collections/{collection}/nfts/mint-requests",
            new StringContent("""{"assets":[{"reference_id":"x","owner_address":"nope"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        foreach (var i in Enumerable.Range(0, 3))
        {
            Assert.Equal("succeeded", (string?)(await server.WaitAsync("erc721", $"{run}-{i}"))["status"]);
        }

        var after = await Eventually.ValueAsync(() => ScrapeAsync(server),
            m => Sum(m, "openmint_mint_latency_seconds_count", accepted) - Sum(before, "openmint_mint_latency_seconds_count", accepted) >= 3
                && Sum(m, "openmint_signer_balance_wei", Labels(("chain", "anvil"))) > 0,
            "the latency histogram to count 3 assets and the balance gauge to be sampled");
        Assert.True(Sum(after, "openmint_mint_assets_accepted_total", accepted) - Sum(before, "openmint_mint_assets_accepted_total", accepted) >= 3);
        Assert.True(Sum(after, "openmint_mint_requests_rejected_total", Labels(("code", "VALIDATION_ERROR")))
            > Sum(before, "openmint_mint_requests_rejected_total", Labels(("code", "VALIDATION_ERROR"))));
        foreach (var outcome in new[] { "sent", "mined" })
        {
            var labels = Labels(("chain", "anvil"), ("outcome", outcome));
            Assert.True(Sum(after, "openmint_transactions_total", labels) > Sum(before, "openmint_transactions_total", labels), outcome);
        }
        Assert.True(Sum(after, "openmint_gas_used_total", Labels(("chain", "anvil"))) - Sum(before, "openmint_gas_used_total", Labels(("chain", "anvil"))) > 21_000);
        Assert.Contains(after, s => s.Name == "openmint_mint_queue" && s.Labels.GetValueOrDefault("status") == "queued");
    }

    internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    private static Dictionary<string, string> Labels(params (string Key, string Value)[] labels) => labels.ToDictionary(l => l.Key, l => l.Value);

    private static double Sum(IEnumerable<Sample> samples, string name, IReadOnlyDictionary<string, string> labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).Sum(s => s.Value);

    internal static async Task<List<Sample>> ScrapeAsync(PipelineServer server)
    {
        using var response = await server.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        return Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Prometheus text format: <c>name{k="v",...} value [timestamp]</c>; comments skipped.</summary>
    internal static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            var brace = line.IndexOf('{');
            var space = brace >= 0 ? line.IndexOf(' ', line.LastIndexOf('}')) : line.IndexOf(' ');
            var name = line[..(brace >= 0 ? brace : space)];
            var labels = new Dictionary<string, string>();
            if (brace >= 0)
            {
                foreach (var pair in line[(brace + 1)..line.LastIndexOf('}')].Split("\",", StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = pair.IndexOf('=');
                    labels[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                }
            }
            var value = line[(space + 1)..].Split(' ')[0];
            samples.Add(new Sample(name, labels, value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => double.Parse(value, CultureInfo.InvariantCulture),
            }));
        }
        return samples;
    }
}
