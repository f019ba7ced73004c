using OpenMint.DevChain;

namespace OpenMint.TestSupport.ScaleOut;

/// <summary>
/// One scale-out run (see <see cref="ScaleOutRun"/>): several <c>openmint serve</c> processes on one PostgreSQL
/// database and one Anvil, several minter wallets, N single-asset mint requests over HTTP, kill -9 of lease holders.
/// </summary>
public sealed record ScaleOutOptions
{
    /// <summary>The chain (an Anvil with the presets, e.g. --block-time 1).</summary>
    public required DevChainDeployment Chain { get; init; }

    /// <summary>A fresh, empty PostgreSQL database (<c>--database</c> value).</summary>
    public required string Database { get; init; }

    public int Requests { get; init; } = 600;

    /// <summary>Minter wallets of the chain: the deployment's minter, then Anvil's funded dev accounts 2.. (MINTER_ROLE granted by the run).</summary>
    public int Wallets { get; init; } = 1;

    public int Instances { get; init; } = 3;

    /// <summary>kill -9 of a lease holder, each followed by its restart; spread evenly over the posting.</summary>
    public int Kills { get; init; } = 2;

    /// <summary>Concurrent HTTP clients posting the requests.</summary>
    public int Clients { get; init; } = 8;

    /// <summary>Posting rate in requests per second; 0 posts as fast as the clients go.</summary>
    public double RequestsPerSecond { get; init; }

    /// <summary>
    /// Hold every wallet's lease while posting, then let go: the instances find the whole queue waiting, and the run
    /// times the pipeline alone (release -> every request settled), with the kills spread over that drain.
    /// </summary>
    public bool Backlog { get; init; }

    /// <summary>
    /// Mint by id (ImmutableERC721MintByID, token id i + 1 for request i: far more gas per token, so many txs)
    /// instead of by quantity (ImmutableERC721V2, ids chosen by the contract: thousands of tokens fit in one tx).
    /// </summary>
    public bool TokenIds { get; init; }

    /// <summary>Distinct owner addresses the requests go to (fresh per run).</summary>
    public int Owners { get; init; } = 50;

    /// <summary>Settings of every serve process (configuration keys such as <c>Pipeline:LeaseDuration</c>).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>How long every request may take to settle once posted.</summary>
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Progress lines (test output, or stderr for the benchmark).</summary>
    public Action<string> Log { get; init; } = _ => { };
}

/// <summary>One kill -9 of a lease holder: who held which wallet's lease, who took it over and when.</summary>
/// <param name="ToNewHolder">kill -> another instance holds the wallet's lease; null if none did.</param>
/// <param name="ToFirstTx">kill -> the first tx attempt signed for that wallet after the kill; null if none came.</param>
public sealed record Takeover(string Wallet, string KilledOwner, string? NewOwner, TimeSpan? ToNewHolder, TimeSpan? ToFirstTx);

/// <summary>What a run measured, and every way it went wrong (empty when every check held).</summary>
/// <param name="Elapsed">First post -> every request settled; with a backlog, the leases let go -> every request settled.</param>
/// <param name="LeaseMoves">Every change of a lease's owner seen during the run: the kills', and any lease a live holder lost (e.g. a tick longer than the lease).</param>
/// <param name="TxsPerWallet">Mint txs the store sent per wallet during the run.</param>
public sealed record ScaleOutResult(
    int Requests,
    int Wallets,
    bool Backlog,
    TimeSpan Elapsed,
    TimeSpan PostingTime,
    IReadOnlyList<Takeover> Takeovers,
    IReadOnlyList<string> LeaseMoves,
    IReadOnlyDictionary<string, int> TxsPerWallet,
    long FirstBlock,
    long LastBlock,
    IReadOnlyList<string> Problems)
{
    public double MintsPerSecond => Requests / Elapsed.TotalSeconds;
}

/// <summary>A run's figures as text lines (test output and the benchmark's report).</summary>
public static class ScaleOutReport
{
    public static IEnumerable<string> Lines(ScaleOutResult r)
    {
        yield return FormattableString.Invariant(
            $"{r.Requests} requests, {r.Wallets} wallet(s): all settled {r.Elapsed.TotalSeconds:F1} s after {(r.Backlog ? "the leases were let go (all queued first)" : "the first post")} (posting {r.PostingTime.TotalSeconds:F1} s) = {r.MintsPerSecond:F1} mints/s; blocks {r.FirstBlock}..{r.LastBlock}");
        yield return "txs per wallet: " + string.Join(", ", r.TxsPerWallet.Select(w => $"{w.Key} {w.Value}"));
        foreach (var t in r.Takeovers)
        {
            yield return FormattableString.Invariant(
                $"kill -9 of {t.KilledOwner} (lease of {t.Wallet}): new holder {t.NewOwner ?? "none"} after {Seconds(t.ToNewHolder)}, its first tx {Seconds(t.ToFirstTx)} after the kill");
        }
        yield return $"lease moves seen: {r.LeaseMoves.Count} ({r.Takeovers.Count} kills)";
        foreach (var move in r.LeaseMoves)
        {
            yield return "  " + move;
        }
        foreach (var p in r.Problems)
        {
            yield return "PROBLEM: " + p;
        }
    }

    public static string Seconds(TimeSpan? t) => t is null ? "-" : t.Value.TotalSeconds.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + " s";
}
