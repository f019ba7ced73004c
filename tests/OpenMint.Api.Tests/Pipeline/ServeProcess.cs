using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Dapper;
using OpenMint.Storage;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>A real <c>openmint serve</c> child process (the built CLI copied next to the tests), with the tail of its output.</summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Queue<string> _tail = new();
    private readonly List<string> _lines = new();

    private ServeProcess(Process process) => Process = process;

    public Process Process { get; }

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

    /// <summary>Runs the built CLI (openmint.dll, copied next to the tests) as a child process with the fast test settings.</summary>
    public static ServeProcess Start(string database, string? crashAt, IReadOnlyDictionary<string, string>? settings = null)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "openmint.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { cli, "serve", "--database", database, "--port", FreePort().ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (k, v) in PipelineServer.FastSettings)
        {
            start.Environment[k.Replace(":", "__", StringComparison.Ordinal)] = v;
        }
        foreach (var (k, v) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[k.Replace(":", "__", StringComparison.Ordinal)] = v;
        }
        start.Environment["Logging__LogLevel__Default"] = "Information";
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        start.Environment.Remove("OPENMINT_CRASH_AT");
        if (crashAt is not null)
        {
            start.Environment["OPENMINT_CRASH_AT"] = crashAt;
        }
        var process = Process.Start(start)!;
        var serve = new ServeProcess(process);
        process.OutputDataReceived += (_, e) => serve.Line(e.Data);
        process.ErrorDataReceived += (_, e) => serve.Line(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return serve;
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

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
