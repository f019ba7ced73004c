using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Dapper;
using OpenMint.Storage;

namespace OpenMint.TestSupport;

/// <summary>
/// A real <c>openmint serve</c> child process (the built CLI, openmint.dll, copied next to the tests or the benchmark
/// by their reference to OpenMint.Cli), with the tail of its output. Shared by the Api tests and the scale-out benchmark.
/// </summary>
public sealed class ServeProcess : IDisposable
{
    private readonly Queue<string> _tail = new();
    private readonly List<string> _lines = new();

    private ServeProcess(Process process, int port)
    {
        Process = process;
        Port = port;
    }

    /// <summary>Short lease and polls for tests: a takeover within seconds, batches sent at once.</summary>
    public static IReadOnlyDictionary<string, string?> FastSettings { get; } = new Dictionary<string, string?>
    {
        ["Pipeline:PollInterval"] = "00:00:00.05",
        ["Pipeline:LeaseDuration"] = "00:00:02",
        ["Pipeline:RebroadcastInterval"] = "00:00:00.5",
        ["Pipeline:MaxBatchWait"] = "00:00:00.2",
    };

    public Process Process { get; }

    /// <summary>The HTTP port on 127.0.0.1.</summary>
    public int Port { get; }

    public Uri BaseUrl => new($"http://127.0.0.1:{Port}");

    /// <summary>Called with each output line as it arrives (e.g. to freeze the process at a chosen log line).</summary>
    public Action<string>? OnLine { get; set; }

    public string Tail
    {
        get
        {
            lock (_tail)
            {
                return string.Join('\n', _tail);
            }
        }
    }

    /// <summary>Every output line so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_tail)
            {
                return _lines.ToList();
            }
        }
    }

    private void Line(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_tail)
        {
            _lines.Add(line);
            _tail.Enqueue(line);
            if (_tail.Count > 40)
            {
                _tail.Dequeue();
            }
        }
        OnLine?.Invoke(line);
    }

    /// <summary>Sends a POSIX signal (STOP, CONT, KILL) to the process.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, Process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{name} {Process.Id} failed");
        }
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Signal("CONT"); // a frozen process cannot exit
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }
        Process.Dispose();
    }

    /// <summary>Runs the built CLI as a child process with <see cref="FastSettings"/> and then <paramref name="settings"/>.</summary>
    public static ServeProcess Start(string database, string? crashAt, IReadOnlyDictionary<string, string>? settings = null) =>
        Start(database, crashAt, FastSettings.Concat((settings ?? new Dictionary<string, string>()).Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value))), null);

    /// <summary>Runs the built CLI as a child process with exactly <paramref name="settings"/> (later keys win), on <paramref name="port"/> or a free one.</summary>
    public static ServeProcess Start(string database, string? crashAt, IEnumerable<KeyValuePair<string, string?>> settings, int? port)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "openmint.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var listen = port ?? FreePort();
        foreach (var a in new[] { cli, "serve", "--database", database, "--port", listen.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (k, v) in settings)
        {
            start.Environment[k.Replace(":", "__", StringComparison.Ordinal)] = v;
        }
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        start.Environment.Remove("OPENMINT_CRASH_AT");
        if (crashAt is not null)
        {
            start.Environment["OPENMINT_CRASH_AT"] = crashAt;
        }
        var process = Process.Start(start)!;
        var serve = new ServeProcess(process, listen);
        process.OutputDataReceived += (_, e) => serve.Line(e.Data);
        process.ErrorDataReceived += (_, e) => serve.Line(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return serve;
    }

    /// <summary>Waits until <c>/health</c> answers 200 (the store is open and the workers are starting).</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"openmint serve on port {Port} exited ({Process.ExitCode}):\n{Tail}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(BaseUrl, "/health"), ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"openmint serve on port {Port} not healthy after {timeout.TotalSeconds} s:\n{Tail}");
            }
            await Task.Delay(200, ct);
        }
    }

    public async Task<bool> WaitExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
            return false;
        }
    }

    /// <summary>The process id in the lease row's owner (<c>machine/pid/guid</c>) of the signer lease, or null when none is held.</summary>
    public static async Task<int?> LeaseHolderPidAsync(OpenMintStorage store)
    {
        await using var c = await store.Database.OpenConnectionAsync(CancellationToken.None);
        var owner = await c.ExecuteScalarAsync<string?>("SELECT owner_instance FROM signer_lease WHERE owner_instance IS NOT NULL");
        return owner is null ? null : int.Parse(owner.Split('/')[1], CultureInfo.InvariantCulture);
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
