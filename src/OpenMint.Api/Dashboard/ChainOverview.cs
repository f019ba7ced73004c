using System.Numerics;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Storage.Dashboard;
using OpenMint.Storage.Telemetry;

namespace OpenMint.Api.Dashboard;

/// <summary>One chain on the overview: its signer as the chain and as the store see it, and its queue.</summary>
/// <param name="Error">Why the signer or the RPC could not be read; the store's figures are shown regardless.</param>
public sealed record ChainStatus(
    ChainConfig Chain,
    string? Signer,
    BigInteger? BalanceWei,
    long? NonceLatest,
    long? NoncePending,
    long? NonceStore,
    long InFlightTxs,
    long Queued,
    long InFlightRequests,
    long? HeadBlock,
    long? LastMinedBlock,
    string? PausedReason,
    string? Error)
{
    public bool RpcReachable => HeadBlock is not null;
}

/// <summary>A chain's treasury on the overview (docs/transactions.md, "Treasury top-ups"): its address and balance, and the top-up in flight.</summary>
public sealed record TreasuryStatus(ChainConfig Chain, string? Address, BigInteger? BalanceWei, TopUpRecord? InFlight, string? Error);

/// <summary>
/// Reads each chain's status for the overview, the way <c>openmint signer status</c> does: the signer from the
/// <see cref="ChainConnector"/>, the store's side from <see cref="SignerRows"/> and <see cref="QueueCounts"/>, the
/// chain's side from its RPC with a short deadline, so a dead RPC shows as unreachable instead of hanging the page.
/// </summary>
public sealed class ChainOverview(ITenancyStore tenancy, ChainConnector connector, SignerRows signers, QueueCounts queue, DashboardQueries queries, IPipelineStore pipeline)
{
    private static readonly TimeSpan RpcDeadline = TimeSpan.FromSeconds(3);

    public async Task<IReadOnlyList<ChainStatus>> ReadAsync(CancellationToken ct)
    {
        var chains = await tenancy.ListChainsAsync(ct).ConfigureAwait(false);
        var counts = await queue.ReadAsync(ct).ConfigureAwait(false);
        // One row per minter wallet; a chain without one still gets a row that says so.
        var wallets = chains.SelectMany(c => c.Minters.Count == 0 ? [(c, (string?)null)] : c.Minters.Select(r => (c, (string?)r)));
        return await Task.WhenAll(wallets.Select(w => ReadAsync(w.Item1, w.Item2, counts, ct))).ConfigureAwait(false);
    }

    /// <summary>The treasuries of the chains that have one.</summary>
    public async Task<IReadOnlyList<TreasuryStatus>> ReadTreasuriesAsync(CancellationToken ct)
    {
        var chains = (await tenancy.ListChainsAsync(ct).ConfigureAwait(false)).Where(c => c.TreasuryKeyRef is not null);
        return await Task.WhenAll(chains.Select(c => ReadTreasuryAsync(c, ct))).ConfigureAwait(false);
    }

    private async Task<TreasuryStatus> ReadTreasuryAsync(ChainConfig chain, CancellationToken ct)
    {
        var inFlight = (await pipeline.ListPendingTopUpsAsync(chain.Name, ct).ConfigureAwait(false)).FirstOrDefault();
        var status = new TreasuryStatus(chain, null, null, inFlight, null);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(RpcDeadline);
        try
        {
            var address = connector.Signer(chain, chain.TreasuryKeyRef!).Address;
            status = status with { Address = address };
            return status with { BalanceWei = await connector.Node(chain).GetBalanceAsync(address, deadline.Token).ConfigureAwait(false) };
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return status with { Error = ex is OperationCanceledException ? $"RPC did not answer within {RpcDeadline.TotalSeconds:0} s" : ex.Message };
        }
    }

    private async Task<ChainStatus> ReadAsync(ChainConfig chain, string? keyRef, IReadOnlyList<QueueCount> counts, CancellationToken ct)
    {
        long Count(string status) => counts.FirstOrDefault(q => q.Chain == chain.Name && q.Status == status)?.Count ?? 0;
        var lastMined = await queries.LastMinedBlockAsync(chain.Name, ct).ConfigureAwait(false);
        var status = new ChainStatus(chain, null, null, null, null, null, 0, Count("queued"), Count("in_flight"), null, lastMined, null, null);
        string signer;
        try
        {
            signer = connector.Signer(chain, keyRef ?? throw new InvalidOperationException($"chain '{chain.Name}' has no minter key: set one with openmint chain update")).Address;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or IOException)
        {
            return status with { Error = ex.Message };
        }
        var row = await signers.ReadAsync(chain.Name, signer, ct).ConfigureAwait(false);
        status = status with { Signer = signer, NonceStore = row.NextNonce, InFlightTxs = row.InFlight, PausedReason = row.PausedReason };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(RpcDeadline);
        try
        {
            var node = connector.Node(chain);
            var head = node.GetLatestBlockAsync(deadline.Token);
            var balance = node.GetBalanceAsync(signer, deadline.Token);
            var latest = node.GetTransactionCountAsync(signer, "latest", deadline.Token);
            var pending = node.GetTransactionCountAsync(signer, "pending", deadline.Token);
            await Task.WhenAll(head, balance, latest, pending).ConfigureAwait(false);
            return status with { HeadBlock = head.Result.Number, BalanceWei = balance.Result, NonceLatest = latest.Result, NoncePending = pending.Result };
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return status with { Error = ex is OperationCanceledException ? $"RPC did not answer within {RpcDeadline.TotalSeconds:0} s" : "RPC: " + ex.Message };
        }
    }
}
