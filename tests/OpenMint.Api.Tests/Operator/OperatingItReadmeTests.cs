using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using OpenMint.Api.Tests.Minting;
using OpenMint.Cli;
using OpenMint.DevChain;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Operator;

/// <summary>An Anvil with chain id 13473, the id README's "Operating it" uses.</summary>
public sealed class ReadmeChainAnvilFixture : AnvilFixture
{
    protected override AnvilOptions Options => new() { ChainId = 13473 };
}

/// <summary>
/// README.md's "Operating it" block, command by command as written, against a fresh store and a fresh Anvil: only the
/// placeholders (paths, the RPC URL, 0x..., ids and secrets printed by earlier commands, the port) are filled in.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public sealed class OperatingItReadmeTests(ReadmeChainAnvilFixture anvil) : IClassFixture<ReadmeChainAnvilFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("openmint-readme-").FullName;
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    [Fact]
    public async Task the_operating_it_commands_work_literally_and_end_with_a_minted_token()
    {
        var lines = ReadmeBlock();
        var port = Refresh.MetadataTestServer.FreePort();
        await File.WriteAllTextAsync(Path.Combine(_dir, "minter.key"), anvil.Deployment.MinterPrivateKey + "\n");
        await File.WriteAllTextAsync(Path.Combine(_dir, "admin.key"), anvil.Deployment.OwnerPrivateKey + "\n");
        var collection = anvil.Deployment["erc721_no_minter_role"].Address.ToLowerInvariant(); // so the grant-minter line has work to do
        string Fill(string s) => s.Replace("/var/lib/openmint", _dir, StringComparison.Ordinal).Replace("/etc/openmint", _dir, StringComparison.Ordinal)
            .Replace("http://127.0.0.1:8545", anvil.RpcUrl.ToString().TrimEnd('/'), StringComparison.Ordinal).Replace("5080", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("--owner-address 0x...", "--owner-address " + anvil.Deployment.OwnerAddress, StringComparison.Ordinal)
            .Replace("--address 0x...", "--address " + collection, StringComparison.Ordinal)
            .Replace("\"owner_address\":\"0x...\"", "\"owner_address\":\"0x1000000000000000000000000000000000000001\"", StringComparison.Ordinal)
            .Replace("<project id>", _values.GetValueOrDefault("project"), StringComparison.Ordinal).Replace("<secret>", _values.GetValueOrDefault("secret"), StringComparison.Ordinal)
            .Replace("<address>", collection, StringComparison.Ordinal);

        var before = Environment.GetEnvironmentVariable("OPENMINT_DATABASE");
        using var serving = new CancellationTokenSource();
        Task<int>? serve = null;
        var seen = new List<string>();
        try
        {
            foreach (var line in lines)
            {
                var words = Shell.Split(Fill(line));
                seen.Add(string.Join(' ', words.Take(3)));
                if (words[0] == "export")
                {
                    var eq = words[1].IndexOf('=', StringComparison.Ordinal);
                    Environment.SetEnvironmentVariable(words[1][..eq], words[1][(eq + 1)..]);
                }
                else if (words[0] == "./openmint" && words[1] == "serve")
                {
                    serve = Commands.Root().Parse(words[1..]).InvokeAsync(new InvocationConfiguration { Output = new StringWriter(), Error = new StringWriter() }, serving.Token);
                    await WaitServingAsync(port, serve);
                }
                else if (words[0] == "./openmint")
                {
                    await RunAsync([.. words.Skip(1)]);
                }
                else
                {
                    Assert.Equal("curl", words[0]);
                    await MintAsync(words, port);
                }
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("OPENMINT_DATABASE", before);
            await serving.CancelAsync();
            if (serve is not null)
            {
                await serve;
            }
        }
        Assert.Equal(["export OPENMINT_DATABASE=", "./openmint db migrate", "./openmint chain add", "./openmint project create", "./openmint key create",
            "./openmint collection add", "./openmint collection grant-minter", "./openmint serve --port", "curl -s -X"], seen.Select(s => s.StartsWith("export", StringComparison.Ordinal) ? "export OPENMINT_DATABASE=" : s));
    }

    private async Task RunAsync(string[] args)
    {
        var (code, output, error) = await CliTests.RunAsync([.. args, "--json"]);
        Assert.True(code == 0, $"openmint {string.Join(' ', args)} exited {code}: {output} {error}");
        var json = JsonNode.Parse(output)!;
        switch (args[0], args[1])
        {
            case ("db", "migrate"):
                Assert.Equal("sqlite:" + Path.Combine(_dir, "openmint.db"), (string?)json["database"]);
                break;
            case ("project", "create"):
                _values["project"] = (string)json["id"]!;
                break;
            case ("key", "create"):
                _values["secret"] = (string)json["secret"]!;
                break;
            case ("collection", "add"):
                Assert.True((bool)json["kind_detected"]!);
                Assert.False((bool)json["minter_has_role"]!);
                break;
            case ("collection", "grant-minter"):
                Assert.True((bool)json["minter_has_role"]!);
                break;
        }
    }

    private static async Task WaitServingAsync(int port, Task<int> serve)
    {
        using var http = new HttpClient();
        await Eventually.TrueAsync(async () =>
        {
            Assert.False(serve.IsCompleted, "serve exited");
            try
            {
                return (await http.GetAsync($"http://127.0.0.1:{port}/readyz")).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "openmint serve to be ready");
    }

    /// <summary>The README's curl: -H headers, -d body, the URL; then the request is followed until it succeeds.</summary>
    private static async Task MintAsync(IReadOnlyList<string> words, int port)
    {
        using var http = new HttpClient();
        var url = words.Single(w => w.StartsWith("http://", StringComparison.Ordinal));
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(words[words.ToList().IndexOf("-d") + 1], Encoding.UTF8, "application/json") };
        for (var i = 0; i < words.Count - 1; i++)
        {
            if (words[i] == "-H" && !words[i + 1].StartsWith("content-type", StringComparison.OrdinalIgnoreCase))
            {
                var colon = words[i + 1].IndexOf(':', StringComparison.Ordinal);
                request.Headers.TryAddWithoutValidation(words[i + 1][..colon], words[i + 1][(colon + 1)..].Trim());
            }
        }
        using var response = await http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        http.DefaultRequestHeaders.TryAddWithoutValidation("x-immutable-api-key", request.Headers.GetValues("x-immutable-api-key").Single());
        var minted = await Eventually.ValueAsync(async () => JsonNode.Parse(await http.GetStringAsync(url + "/1"))!["result"]![0]!,
            r => (string?)r["status"] != "pending", "the README's mint request to leave pending", TimeSpan.FromSeconds(90));
        Assert.True((string?)minted["status"] == "succeeded", minted.ToJsonString());
        Assert.False(string.IsNullOrEmpty((string?)minted["token_id"]));
        Assert.Contains(port.ToString(CultureInfo.InvariantCulture), url, StringComparison.Ordinal);
    }

    /// <summary>The command lines of the first code block under "## Operating it".</summary>
    private static List<string> ReadmeBlock()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OpenMint.slnx")))
        {
            dir = dir.Parent;
        }
        Assert.NotNull(dir);
        var readme = File.ReadAllText(Path.Combine(dir.FullName, "README.md"));
        var section = readme[readme.IndexOf("## Operating it", StringComparison.Ordinal)..];
        var start = section.IndexOf("```\n", StringComparison.Ordinal) + 4;
        var block = section[start..section.IndexOf("```", start, StringComparison.Ordinal)];
        return block.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary>Just enough of POSIX shell word splitting for README lines: quotes, and <c>#</c> comments.</summary>
internal static class Shell
{
    public static List<string> Split(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c is '\'' or '"')
            {
                var end = line.IndexOf(c, i + 1);
                word.Append(line, i + 1, end - i - 1);
                i = end;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else if (c == '#' && !inWord)
            {
                break;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words;
    }
}
