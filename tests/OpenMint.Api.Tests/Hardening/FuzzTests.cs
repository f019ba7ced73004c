using System.Globalization;
using System.Net;
using System.Text;
using OpenMint.Api.Tests.Minting;
using OpenMint.Chain;
using Xunit.Abstractions;
using static OpenMint.Api.Tests.Minting.MintingServerFixture;

namespace OpenMint.Api.Tests.Hardening;

/// <summary>
/// Generated hostile input, seeded: at least <see cref="PerEndpoint"/> requests per endpoint, none may answer 5xx or
/// take longer than 5 s, and the service must still answer afterwards. The seed is printed in every failure; set
/// <c>OPENMINT_FUZZ_SEED</c> to replay a run.
/// </summary>
public sealed class FuzzTests(MintingServerFixture server, ITestOutputHelper output) : IClassFixture<MintingServerFixture>
{
    private const int PerEndpoint = 1000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    private static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("OPENMINT_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : Random.Shared.Next();

    [Fact]
    public async Task generated_mint_create_bodies_never_get_a_5xx_or_hang()
    {
        var seed = Seed();
        var gen = new FuzzInput(new Random(seed));
        await RunAsync(seed, "mint create", i =>
        {
            var address = gen.Pick(server.Erc721, server.Erc1155, server.Erc721, server.Erc1155, server.Disabled);
            var request = new HttpRequestMessage(HttpMethod.Post, MintPath(address)) { Content = new ByteArrayContent(gen.MintBody()) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            request.Headers.TryAddWithoutValidation("x-immutable-api-key", server.Key);
            return request;
        });
    }

    [Fact]
    public async Task generated_refresh_create_bodies_never_get_a_5xx_or_hang()
    {
        var seed = Seed();
        var gen = new FuzzInput(new Random(seed));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        // A fresh signer per request: every signature is new, so each body gets past auth to the parser.
        var keys = Enumerable.Range(0, PerEndpoint).Select(_ => EthKey.Random()).ToArray();
        await RunAsync(seed, "refresh create", i =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/metadata-refreshes") { Content = new ByteArrayContent(gen.RefreshBody(server.Erc721)) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            request.Headers.TryAddWithoutValidation("x-imx-eth-address", keys[i].Address);
            request.Headers.TryAddWithoutValidation("x-imx-eth-timestamp", now);
            request.Headers.TryAddWithoutValidation("x-imx-eth-signature", PersonalSign.Sign(keys[i], now));
            return request;
        });
    }

    [Fact]
    public async Task generated_list_queries_never_get_a_5xx_or_hang()
    {
        var seed = Seed();
        var gen = new FuzzInput(new Random(seed));
        var reader = EthKey.Random();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = PersonalSign.Sign(reader, now); // reads may reuse a signature
        await RunAsync(seed, "list queries", i =>
        {
            var refresh = i % 3 == 2;
            var path = refresh ? "/v1/metadata-refreshes?" + gen.Query("collection_address", "page_size", "cursor")
                : MintPath(server.Erc721) + "?" + gen.Query("page_size", "status", "page_cursor");
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("x-immutable-api-key", server.Key);
            if (refresh)
            {
                request.Headers.TryAddWithoutValidation("x-imx-eth-address", reader.Address);
                request.Headers.TryAddWithoutValidation("x-imx-eth-timestamp", now);
                request.Headers.TryAddWithoutValidation("x-imx-eth-signature", signature);
            }
            return request;
        });
    }

    [Fact]
    public async Task generated_asset_read_paths_never_get_a_5xx_or_hang()
    {
        var seed = Seed();
        var gen = new FuzzInput(new Random(seed));
        await RunAsync(seed, "asset reads", i =>
        {
            var chain = i % 7 == 0 ? gen.PathSegment() : ChainName;
            var address = i % 5 == 0 ? gen.PathSegment() : server.Erc721;
            var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/chains/{chain}/collections/{address}/nfts/{gen.PathSegment()}");
            request.Headers.TryAddWithoutValidation("x-immutable-api-key", server.Key);
            return request;
        });
    }

    private async Task RunAsync(int seed, string endpoint, Func<int, HttpRequestMessage> next)
    {
        output.WriteLine($"{endpoint}: OPENMINT_FUZZ_SEED={seed}");
        using var http = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 })
        {
            BaseAddress = new Uri(server.BaseUrl),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < PerEndpoint; i++)
        {
            using var request = next(i);
            var what = $"{endpoint} #{i} (replay with OPENMINT_FUZZ_SEED={seed}): {request.Method} {request.RequestUri}";
            var body = request.Content is null ? "" : Shorten(await request.Content.ReadAsStringAsync());
            using var deadline = new CancellationTokenSource(Deadline);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"no answer within {Deadline.TotalSeconds} s: {what} {body}");
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(deadline.Token);
                Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} {Shorten(text)} for {what} {body}");
                statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
            }
        }
        output.WriteLine(string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}")));
        using var health = await http.GetAsync("/health");
        Assert.True(health.StatusCode == HttpStatusCode.OK, $"the service stopped answering after {endpoint} (OPENMINT_FUZZ_SEED={seed})");
    }

    private static string Shorten(string s) => s.Length <= 400 ? s : s[..400] + "...";
}
