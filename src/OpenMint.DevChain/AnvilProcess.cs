using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using OpenMint.Chain;

namespace OpenMint.DevChain;

/// <summary>
/// One Anvil process on a free loopback port. It runs in its own session (setsid) under a small shell
/// watchdog that kills it when this process goes away, even by SIGKILL; Dispose and ProcessExit kill the tree.
/// </summary>
public sealed class AnvilProcess : IAsyncDisposable, IDisposable
{
    // $1 = our pid; the rest is the anvil command line. The loop ends when either side is gone.
    private const string Watchdog =
        "parent=$1; shift; \"$@\" & child=$!; trap 'kill $child 2>/dev/null; exit 0' TERM INT HUP; " +
        "while kill -0 $parent 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; kill $child 2>/dev/null; wait $child";

    private const int OutputLines = 200;
    private readonly Queue<string> _output = new();
    private readonly EventHandler _onExit;
    private readonly string _anvilPath;
    private readonly AnvilOptions _options;
    private readonly SemaphoreSlim _restart = new(1, 1);
    private Process _process;
    private int _disposed;

    private AnvilProcess(Process process, int port, string anvilPath, AnvilOptions options)
    {
        _process = process;
        _anvilPath = anvilPath;
        _options = options;
        Port = port;
        RpcUrl = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        _onExit = (_, _) => Kill();
        AppDomain.CurrentDomain.ProcessExit += _onExit;
        Attach(process);
    }

    private void Attach(Process process)
    {
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri RpcUrl { get; }
    public int Port { get; }
    public long ChainId { get; private set; }

    /// <summary>Process id of the watchdog shell (Anvil is its child).</summary>
    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines Anvil printed (for error messages).</summary>
    public string RecentOutput
    {
        get { lock (_output) { return string.Join('\n', _output); } }
    }

    /// <summary>Starts Anvil and waits until it answers eth_chainId. Retries on a port taken between probe and bind.</summary>
    public static async Task<AnvilProcess> StartAsync(AnvilOptions? options, CancellationToken ct)
    {
        options ??= new AnvilOptions();
        var anvil = options.AnvilPath ?? ChainTools.FindAnvil()
            ?? throw new FileNotFoundException($"Anvil is not installed (tools/chain/{ChainTools.AnvilRelativePath}). {ChainTools.HowToInstall}");
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort();
            var process = Launch(anvil, port, options);
            var instance = new AnvilProcess(process, port, anvil, options);
            try
            {
                await instance.WaitUntilReadyAsync(options.StartTimeout, ct).ConfigureAwait(false);
                return instance;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                last = e;
                await instance.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await instance.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        throw new InvalidOperationException("Anvil did not start after 3 attempts: " + last?.Message, last);
    }

    private static Process Launch(string anvil, int port, AnvilOptions options)
    {
        var psi = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "bash", "-c", Watchdog, "openmint-anvil", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), anvil })
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var a in AnvilArguments(port, options))
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi) ?? throw new InvalidOperationException("could not start " + anvil);
    }

    /// <summary>The anvil command line for <paramref name="options"/> (loopback only).</summary>
    public static IReadOnlyList<string> AnvilArguments(int port, AnvilOptions options)
    {
        var args = new List<string> { "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture) };
        if (options.ChainId is { } id)
        {
            args.AddRange(["--chain-id", id.ToString(CultureInfo.InvariantCulture)]);
        }
        if (options.BlockTimeSeconds is { } bt)
        {
            args.AddRange(["--block-time", bt.ToString(CultureInfo.InvariantCulture)]);
        }
        if (options.NoMining)
        {
            args.Add("--no-mining");
        }
        if (options.EnableTxGasLimit)
        {
            args.Add("--enable-tx-gas-limit");
        }
        if (!options.Verbose)
        {
            args.Add("--quiet");
        }
        args.AddRange(options.ExtraArgs);
        return args;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var rpc = DevRpcClient.For(RpcUrl);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"anvil exited with code {_process.ExitCode}: {RecentOutput}");
            }
            try
            {
                ChainId = HexQuantity.ParseLong((await rpc.CallAsync("eth_chainId", [], cts.Token).ConfigureAwait(false)).GetString()!);
                return;
            }
            catch (RpcTransportException)
            {
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"anvil did not answer eth_chainId within {timeout.TotalSeconds:0} s: {RecentOutput}");
            }
            await Task.Delay(20, cts.Token).ConfigureAwait(false);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > OutputLines)
            {
                _output.Dequeue();
            }
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // raced with exit
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        AppDomain.CurrentDomain.ProcessExit -= _onExit;
        Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        AppDomain.CurrentDomain.ProcessExit -= _onExit;
        Kill();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _process.Dispose();
    }

    /// <summary>
    /// The node's whole state now (accounts, code, storage, blocks, receipts; not the pool), as the JSON file
    /// <c>--load-state</c> reads, written to <paramref name="path"/>. Restart from it later to model a node
    /// restart (<see cref="RestartAsync"/>), or from an older dump to make recent blocks vanish.
    /// </summary>
    public async Task<string> DumpStateAsync(string path, CancellationToken ct)
    {
        // anvil_dumpState answers 0x + gzip of the JSON.
        var hex = (await RpcAsync("anvil_dumpState", [], ct).ConfigureAwait(false)).GetString()
            ?? throw new InvalidOperationException("anvil_dumpState returned null");
        var gzip = Convert.FromHexString(hex.AsSpan(hex.StartsWith("0x", StringComparison.Ordinal) ? 2 : 0));
        await using (var input = new System.IO.Compression.GZipStream(new MemoryStream(gzip), System.IO.Compression.CompressionMode.Decompress))
        await using (var output = File.Create(path))
        {
            await input.CopyToAsync(output, ct).ConfigureAwait(false);
        }
        return path;
    }

    /// <summary>Kills Anvil (SIGKILL, like a crash) and waits until it is gone; the port stays this instance's for <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        await _restart.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await StopCoreAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _restart.Release();
        }
    }

    /// <summary>
    /// Kills Anvil if it runs and starts it again with the same options on the same port and URL, so clients
    /// see a node restart. <paramref name="loadStatePath"/> (from <see cref="DumpStateAsync"/>) restores a state;
    /// without it the chain starts from genesis. The pool is always empty after a restart.
    /// </summary>
    public async Task RestartAsync(string? loadStatePath, CancellationToken ct)
    {
        await _restart.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            await StopCoreAsync(ct).ConfigureAwait(false);
            var options = loadStatePath is null ? _options : _options with { ExtraArgs = [.. _options.ExtraArgs, "--load-state", loadStatePath] };
            Exception? last = null;
            // The port may be busy for a moment after the kill; it is ours, so wait for it rather than take another.
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var process = Launch(_anvilPath, Port, options);
                _process.Dispose();
                _process = process;
                Attach(process);
                try
                {
                    await WaitUntilReadyAsync(options.StartTimeout, ct).ConfigureAwait(false);
                    return;
                }
                catch (InvalidOperationException e)
                {
                    last = e; // exited at once (address in use): try again
                    await Task.Delay(100, ct).ConfigureAwait(false);
                }
            }
            throw new InvalidOperationException($"anvil did not restart on port {Port}: {last?.Message}", last);
        }
        finally
        {
            _restart.Release();
        }
    }

    private async Task StopCoreAsync(CancellationToken ct)
    {
        Kill();
        await _process.WaitForExitAsync(ct).ConfigureAwait(false);
        // The watchdog is gone; wait until Anvil (its child, in the same session) has released the port.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (PortAnswers() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }

    private bool PortAnswers()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Any JSON-RPC call on this node (for fault injection: anvil_*, evm_*).</summary>
    public async Task<System.Text.Json.JsonElement> RpcAsync(string method, object?[] parameters, CancellationToken ct)
    {
        var rpc = DevRpcClient.For(RpcUrl);
        return await rpc.CallAsync(method, parameters, ct).ConfigureAwait(false);
    }

    /// <summary>Mines one block now (works under automine, --block-time and --no-mining).</summary>
    public Task MineAsync(CancellationToken ct) => RpcAsync("evm_mine", [], ct);

    /// <summary>Turns automine on or off (off: transactions wait in the pool for <see cref="MineAsync"/> or interval mining).</summary>
    public Task SetAutomineAsync(bool enabled, CancellationToken ct) => RpcAsync("evm_setAutomine", [enabled], ct);

    /// <summary>Mines a block every <paramref name="seconds"/> seconds; 0 stops interval mining.</summary>
    public Task SetIntervalMiningAsync(int seconds, CancellationToken ct) => RpcAsync("evm_setIntervalMining", [seconds], ct);

    /// <summary>Removes a pending transaction from the pool: to the sender it looks dropped.</summary>
    public Task DropTransactionAsync(string hash, CancellationToken ct) => RpcAsync("anvil_dropTransaction", [hash], ct);

    public Task SetNextBlockBaseFeeAsync(System.Numerics.BigInteger wei, CancellationToken ct) =>
        RpcAsync("anvil_setNextBlockBaseFeePerGas", [HexQuantity.Encode(wei)], ct);

    public override string ToString() => new StringBuilder("anvil ").Append(RpcUrl).Append(" chain ").Append(ChainId).ToString();
}
