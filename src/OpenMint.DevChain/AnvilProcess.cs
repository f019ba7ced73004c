using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

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
    private readonly Process _process;
    private readonly Queue<string> _output = new();
    private readonly EventHandler _onExit;
    private int _disposed;

    private AnvilProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        RpcUrl = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        _onExit = (_, _) => Kill();
        AppDomain.CurrentDomain.ProcessExit += _onExit;
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
            var instance = new AnvilProcess(process, port);
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
        using var rpc = new DevRpc(RpcUrl);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"anvil exited with code {_process.ExitCode}: {RecentOutput}");
            }
            try
            {
                ChainId = DevRpc.ToLong(await rpc.CallAsync("eth_chainId", [], cts.Token).ConfigureAwait(false));
                return;
            }
            catch (HttpRequestException)
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

    /// <summary>Any JSON-RPC call on this node (for fault injection: anvil_*, evm_*).</summary>
    public async Task<System.Text.Json.JsonElement> RpcAsync(string method, object?[] parameters, CancellationToken ct)
    {
        using var rpc = new DevRpc(RpcUrl);
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
        RpcAsync("anvil_setNextBlockBaseFeePerGas", [DevRpc.Quantity(wei)], ct);

    public override string ToString() => new StringBuilder("anvil ").Append(RpcUrl).Append(" chain ").Append(ChainId).ToString();
}
