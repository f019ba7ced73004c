using System.Diagnostics;
using System.Globalization;
using Dapper;

namespace OpenMint.TestSupport.ScaleOut;

public sealed partial class ScaleOutRun
{
    private static readonly TimeSpan TakeoverTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Kill k (of n) comes once k/(n+1) of the requests are posted (with a backlog: settled): the holder of wallet k mod w's lease (read from
    /// signer_lease) is killed with SIGKILL and restarted on its port; then the time to a new holder and to that
    /// wallet's first new tx attempt is measured.
    /// </summary>
    private async Task<IReadOnlyList<Takeover>> KillsAsync(Stopwatch clock, CancellationToken ct)
    {
        var takeovers = new List<Takeover>();
        for (var k = 1; k <= _o.Kills; k++)
        {
            var due = _requests.Count * k / (_o.Kills + 1);
            if (!await WaitProgressAsync(due, ct))
            {
                _o.Log($"{clock.Elapsed.TotalSeconds:F1} s: kill {k} not done: {await SettledAsync()} settled after {_o.SettleTimeout.TotalSeconds} s");
                break;
            }
            var wallet = _wallets[(k - 1) % _wallets.Count].Address;
            var (owner, index) = await Eventually.ValueAsync(() => HolderAsync(wallet), h => h.Index >= 0,
                $"a live instance holding the lease of {wallet}", TakeoverTimeout);
            var victim = _instances[index]!;
            victim.Signal("KILL");
            var killed = Stopwatch.StartNew();
            await victim.WaitExitAsync(TimeSpan.FromSeconds(10));
            var attempts = await AttemptsAsync(wallet);
            _o.Log($"{clock.Elapsed.TotalSeconds:F1} s: kill -9 of instance {index} (pid {victim.Process.Id}), holder of {wallet}; {Volatile.Read(ref _posted)} posted");
            victim.Dispose();
            _instances[index] = ServeProcess.Start(_o.Database, null, _o.Settings, _ports[index]);

            var newOwner = await WaitAsync(async () => (await LeaseOwnerAsync(wallet)) is { } o && o != owner ? o : null, untilSettled: false);
            var toHolder = newOwner is null ? (TimeSpan?)null : killed.Elapsed;
            var firstTx = await WaitAsync(async () => await AttemptsAsync(wallet) > attempts ? "tx" : null, untilSettled: true);
            var toTx = firstTx is null ? (TimeSpan?)null : killed.Elapsed;
            _o.Log($"  new holder {newOwner ?? "none"} after {ScaleOutReport.Seconds(toHolder)}, first tx of {wallet} after {ScaleOutReport.Seconds(toTx)}");
            takeovers.Add(new Takeover(wallet, owner, newOwner, toHolder, toTx));
            await _instances[index]!.WaitHealthyAsync(StartTimeout, ct);
        }
        return takeovers;
    }

    /// <summary>Every change of a wallet's lease owner seen (polled every 100 ms), kills or not, until stopped.</summary>
    private async Task<IReadOnlyList<string>> WatchLeasesAsync(Stopwatch clock, CancellationToken stop)
    {
        var moves = new List<string>();
        var last = new Dictionary<string, string>();
        while (!stop.IsCancellationRequested)
        {
            foreach (var (wallet, _) in _wallets)
            {
                var owner = await LeaseOwnerAsync(wallet);
                if (owner is not null && last.TryGetValue(wallet, out var previous) && previous != owner && previous != BacklogOwner)
                {
                    moves.Add(FormattableString.Invariant($"{clock.Elapsed.TotalSeconds:F1} s: {wallet} {previous} -> {owner}"));
                }
                if (owner is not null)
                {
                    last[wallet] = owner;
                }
            }
            await Task.Delay(100, CancellationToken.None);
        }
        return moves;
    }

    /// <summary>Waits for the kill's turn; false when the requests stopped settling (<see cref="ScaleOutOptions.SettleTimeout"/>).</summary>
    private async Task<bool> WaitProgressAsync(int due, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (_o.Backlog ? await SettledAsync() < due : Volatile.Read(ref _posted) < due && !_postingDone)
        {
            if (waited.Elapsed > _o.SettleTimeout)
            {
                return false;
            }
            await Task.Delay(50, ct);
        }
        return true;
    }

    /// <summary>Polls until <paramref name="probe"/> answers, the timeout passes, or (<paramref name="untilSettled"/>) every request has settled (null).</summary>
    private async Task<string?> WaitAsync(Func<Task<string?>> probe, bool untilSettled)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TakeoverTimeout)
        {
            if (await probe() is { } found)
            {
                return found;
            }
            if (untilSettled && _postingDone && await SettledAsync() >= _requests.Count)
            {
                return await probe();
            }
            await Task.Delay(50);
        }
        return null;
    }

    /// <summary>The wallet's lease owner (<c>machine/pid/guid</c>) and the index of our live instance with that pid (-1: none).</summary>
    private async Task<(string Owner, int Index)> HolderAsync(string wallet)
    {
        var owner = await LeaseOwnerAsync(wallet);
        if (owner is null)
        {
            return ("", -1);
        }
        var pid = int.Parse(owner.Split('/')[1], CultureInfo.InvariantCulture);
        var index = Array.FindIndex(_instances, p => p is not null && !p.Process.HasExited && p.Process.Id == pid);
        return (owner, index);
    }

    private async Task<string?> LeaseOwnerAsync(string wallet)
    {
        await using var c = await _store.Database.OpenConnectionAsync(CancellationToken.None);
        return await c.ExecuteScalarAsync<string?>("SELECT owner_instance FROM signer_lease WHERE chain_name = @ChainName AND signer_address = @wallet",
            new { ChainName, wallet });
    }

    private Task<long> AttemptsAsync(string wallet) =>
        ScalarAsync("SELECT COUNT(*) FROM tx_attempt a JOIN tx t ON t.id = a.tx_id WHERE t.chain_name = @ChainName AND t.signer_address = @wallet",
            new { ChainName, wallet });
}
