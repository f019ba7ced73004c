using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using OpenMint.Chain;
using OpenMint.DevChain;
using OpenMint.Storage;

namespace OpenMint.TestSupport.ScaleOut;

/// <summary>
/// The scale-out proof shared by <c>ScaleOutTests</c> and <c>bench -- scaleout</c>: provisions the chain, project, key
/// and collection with the <c>openmint</c> CLI (every wallet with <c>--minter-key-file</c>), starts the serve processes,
/// posts the requests over all of them, kills lease holders (<see cref="Kills"/>), waits for every request to settle,
/// then checks the outcome on chain and in the store (<see cref="CheckAsync"/>).
/// </summary>
public sealed partial class ScaleOutRun : IAsyncDisposable
{
    private const string ChainName = "scaleout";
    private const string BacklogOwner = "scaleout/0/backlog";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    private readonly ScaleOutOptions _o;
    private readonly OpenMintStorage _store;
    private readonly ServeProcess?[] _instances;
    private readonly int[] _ports;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"openmint-scaleout-{Guid.NewGuid():N}");
    private readonly Uri _rpc;
    private readonly IReadOnlyList<(string Address, string PrivateKey)> _wallets;
    private readonly IReadOnlyList<(string Reference, string Owner)> _requests;
    private string _apiKey = "";
    private string _collection = "";
    private long _collectionId;
    private int _posted;
    private volatile bool _postingDone;

    private ScaleOutRun(ScaleOutOptions options, OpenMintStorage store)
    {
        _o = options;
        _store = store;
        _rpc = new Uri(options.Chain.RpcUrl);
        _instances = new ServeProcess?[options.Instances];
        _ports = Enumerable.Range(0, options.Instances).Select(_ => ServeProcess.FreePort()).ToArray();
        if (options.Wallets < 1 || options.Wallets > 1 + DevAccounts.Others.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Wallets must be 1..{1 + DevAccounts.Others.Count} (the dev chain's funded accounts)");
        }
        _wallets = [(options.Chain.MinterAddress.ToLowerInvariant(), options.Chain.MinterPrivateKey),
            .. DevAccounts.Others.Take(options.Wallets - 1).Select(w => (w.Address.ToLowerInvariant(), w.PrivateKey))];
        var owners = Enumerable.Range(0, options.Owners).Select(_ => "0x" + Guid.NewGuid().ToString("N") + "00000000").ToArray();
        var run = Guid.NewGuid().ToString("N")[..8];
        _requests = Enumerable.Range(0, options.Requests).Select(i => ($"so-{run}-{i}", owners[i % owners.Length])).ToList();
    }

    /// <summary>Runs the whole scenario; the serve processes are gone when it returns.</summary>
    public static async Task<ScaleOutResult> RunAsync(ScaleOutOptions options, CancellationToken ct)
    {
        var store = await OpenMintStorage.OpenAsync(options.Database, ct);
        await using var run = new ScaleOutRun(options, store);
        return await run.ExecuteAsync(ct);
    }

    private async Task<ScaleOutResult> ExecuteAsync(CancellationToken ct)
    {
        await ProvisionAsync(ct);
        var firstBlock = await BlockNumberAsync();
        var startNonces = new Dictionary<string, long>();
        foreach (var (address, _) in _wallets)
        {
            startNonces[address] = await NonceAsync(address, "latest");
        }
        await HoldLeasesAsync(hold: true, ct);
        for (var i = 0; i < _instances.Length; i++)
        {
            _instances[i] = ServeProcess.Start(_o.Database, null, _o.Settings, _ports[i]);
        }
        foreach (var instance in _instances)
        {
            await instance!.WaitHealthyAsync(StartTimeout, ct);
        }
        _o.Log($"{_instances.Length} instances up (ports {string.Join(", ", _ports)}), {_wallets.Count} wallet(s); posting {_requests.Count} requests from block {firstBlock}");

        var clock = Stopwatch.StartNew();
        using var stopWatching = new CancellationTokenSource();
        var watching = WatchLeasesAsync(clock, stopWatching.Token);
        var kills = _o.Backlog ? null : KillsAsync(clock, ct);
        await PostAllAsync(clock, ct);
        var postingTime = clock.Elapsed;
        _o.Log($"posted {_requests.Count} in {postingTime.TotalSeconds:F1} s");
        if (_o.Backlog)
        {
            await HoldLeasesAsync(hold: false, ct);
            clock.Restart();
            kills = KillsAsync(clock, ct);
        }
        var takeovers = await kills!;
        var settled = await WaitSettledAsync(clock, ct);
        var elapsed = clock.Elapsed;
        await stopWatching.CancelAsync();
        var leaseMoves = await watching;
        var lastBlock = await BlockNumberAsync();

        var problems = new List<string>();
        if (!settled)
        {
            problems.Add($"not every request settled within {_o.SettleTimeout.TotalSeconds} s after posting");
        }
        var txsPerWallet = await CheckAsync(startNonces, firstBlock, takeovers, problems, ct);
        return new ScaleOutResult(_requests.Count, _wallets.Count, _o.Backlog, elapsed, postingTime, takeovers, leaseMoves, txsPerWallet, firstBlock, lastBlock, problems);
    }

    /// <summary>
    /// With <see cref="ScaleOutOptions.Backlog"/>: the run itself holds every wallet's lease (as instance
    /// <c>scaleout/0/backlog</c>, through the store's own lease call) while the requests are posted, so the instances
    /// start minting only when it lets go, with the whole queue waiting.
    /// </summary>
    private async Task HoldLeasesAsync(bool hold, CancellationToken ct)
    {
        if (!_o.Backlog)
        {
            return;
        }
        foreach (var (wallet, _) in _wallets)
        {
            if (!hold)
            {
                await _store.Pipeline.ReleaseLeaseAsync(ChainName, wallet, BacklogOwner, ct);
            }
            else if (await _store.Pipeline.TryAcquireLeaseAsync(ChainName, wallet, BacklogOwner, DateTimeOffset.UtcNow, TimeSpan.FromHours(1), ct) is null)
            {
                throw new InvalidOperationException($"the lease of {wallet} is already held");
            }
        }
    }

    /// <summary>Chain (every wallet a --minter-key-file), project, API key and the ERC721 collection, through the CLI.</summary>
    private async Task ProvisionAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_dir);
        List<string> chain = ["chain", "add", ChainName, "--chain-id", _o.Chain.ChainId.ToString(CultureInfo.InvariantCulture), "--rpc-url", _o.Chain.RpcUrl];
        for (var i = 0; i < _wallets.Count; i++)
        {
            var keyFile = Path.Combine(_dir, $"wallet-{i}.key");
            await File.WriteAllTextAsync(keyFile, _wallets[i].PrivateKey + "\n", ct);
            chain.AddRange(["--minter-key-file", keyFile]);
        }
        await OpenMintCli.RunJsonAsync([.. chain, "--database", _o.Database], ct);
        var project = await OpenMintCli.RunJsonAsync(["project", "create", "--name", "scaleout", "--owner-address", _o.Chain.OwnerAddress,
            "--mint-limit-per-minute", "1000000", "--database", _o.Database], ct);
        var projectId = (string)project["id"]!;
        _apiKey = (string)(await OpenMintCli.RunJsonAsync(["key", "create", "--project", projectId, "--database", _o.Database], ct))["secret"]!;
        _collection = _o.Chain[_o.TokenIds ? "erc721_mint_by_id" : "erc721"].Address.ToLowerInvariant();
        foreach (var (address, _) in _wallets.Skip(1))
        {
            await GrantMinterRoleAsync(address, ct);
        }
        await OpenMintCli.RunJsonAsync(["collection", "add", "--chain", ChainName, "--address", _collection, "--project", projectId, "--database", _o.Database], ct);
        _collectionId = await ScalarAsync("SELECT id FROM collection WHERE chain_name = @ChainName AND address = @Collection", new { ChainName, Collection = _collection });
    }

    /// <summary>grantMinterRole(wallet) from the presets' owner (an unlocked Anvil account), waited for.</summary>
    private async Task GrantMinterRoleAsync(string wallet, CancellationToken ct)
    {
        var call = new { from = _o.Chain.OwnerAddress, to = _collection, data = Hex.Encode(Abi.EncodeCall("grantMinterRole(address)", wallet)), gas = "0x30d40" };
        var hash = (await RawRpc.CallAsync(_rpc, "eth_sendTransaction", call)).GetString()!;
        var receipt = await Eventually.ValueAsync(() => RawRpc.CallAsync(_rpc, "eth_getTransactionReceipt", hash), r => r.ValueKind != JsonValueKind.Null,
            $"grantMinterRole({wallet}) mined", TimeSpan.FromSeconds(60));
        if (receipt.GetProperty("status").GetString() != "0x1")
        {
            throw new InvalidOperationException($"grantMinterRole({wallet}) reverted");
        }
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>The clients take requests in order; request i goes to instance i mod n first, the next one if that one is down.</summary>
    private async Task PostAllAsync(Stopwatch clock, CancellationToken ct)
    {
        var next = -1;
        try
        {
            await Task.WhenAll(Enumerable.Range(0, _o.Clients).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < _requests.Count)
                {
                    if (_o.RequestsPerSecond > 0)
                    {
                        var wait = TimeSpan.FromSeconds(i / _o.RequestsPerSecond) - clock.Elapsed;
                        if (wait > TimeSpan.Zero)
                        {
                            await Task.Delay(wait, ct);
                        }
                    }
                    await PostOneAsync(i, ct);
                    Interlocked.Increment(ref _posted);
                }
            }));
        }
        finally
        {
            _postingDone = true;
        }
    }

    private async Task PostOneAsync(int i, CancellationToken ct)
    {
        var (reference, owner) = _requests[i];
        var tokenId = _o.TokenIds ? $",\"token_id\":\"{i + 1}\"" : "";
        var body = $"{{\"assets\":[{{\"reference_id\":\"{reference}\",\"owner_address\":\"{owner}\"{tokenId}}}]}}";
        for (var attempt = 0; ; attempt++)
        {
            var port = _ports[(i + attempt) % _ports.Length];
            var failure = "";
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/v1/chains/{ChainName}/collections/{_collection}/nfts/mint-requests")
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                };
                request.Headers.TryAddWithoutValidation("x-immutable-api-key", _apiKey);
                using var response = await _http.SendAsync(request, ct);
                var status = (int)response.StatusCode;
                // A 409 on a retry: an earlier attempt was accepted but its answer was lost with the killed instance.
                if (status == 202 || (status == 409 && attempt > 0))
                {
                    return;
                }
                failure = $"{status} {await response.Content.ReadAsStringAsync(ct)}";
                if (status < 500 && status != 429)
                {
                    throw new InvalidOperationException($"POST {reference} to port {port}: {failure}");
                }
            }
            catch (HttpRequestException e)
            {
                failure = e.Message; // killed or restarting: the next instance takes it
            }
            catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
            {
                failure = e.Message;
            }
            if (attempt >= 100)
            {
                throw new InvalidOperationException($"POST {reference}: no instance accepted it after {attempt + 1} attempts; last: {failure}");
            }
            await Task.Delay(100, ct);
        }
    }

    private async Task<bool> WaitSettledAsync(Stopwatch clock, CancellationToken ct)
    {
        var deadline = clock.Elapsed + _o.SettleTimeout;
        var logAt = clock.Elapsed;
        while (true)
        {
            var settled = await SettledAsync();
            if (settled >= _requests.Count)
            {
                return true;
            }
            if (clock.Elapsed > deadline)
            {
                return false;
            }
            if (clock.Elapsed >= logAt)
            {
                _o.Log($"{clock.Elapsed.TotalSeconds:F0} s: {settled}/{_requests.Count} settled");
                logAt += TimeSpan.FromSeconds(5);
            }
            await Task.Delay(100, ct);
        }
    }

    private Task<long> SettledAsync() =>
        ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE collection_id = @Id AND status <> 'pending'", new { Id = _collectionId });

    private async Task<long> ScalarAsync(string sql, object? args = null)
    {
        await using var c = await _store.Database.OpenConnectionAsync(CancellationToken.None);
        return await c.ExecuteScalarAsync<long>(sql, args);
    }

    private async Task<long> BlockNumberAsync() => HexQuantity.ParseLong((await RawRpc.CallAsync(_rpc, "eth_blockNumber")).GetString()!);

    private async Task<long> NonceAsync(string address, string block) =>
        HexQuantity.ParseLong((await RawRpc.CallAsync(_rpc, "eth_getTransactionCount", address, block)).GetString()!);

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            instance?.Dispose();
        }
        _http.Dispose();
        await _store.DisposeAsync();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
