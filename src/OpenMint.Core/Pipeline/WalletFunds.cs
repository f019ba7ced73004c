using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Telemetry;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// One wallet among several of a chain (docs/transactions.md, "Several wallets"): while it cannot pay for gas it takes
/// no batches and gives back the txs no node took, so the other wallets mint their requests; it takes batches again
/// once its balance pays for a small mint at the market's fees. A chain's only wallet keeps its stored txs instead
/// (they are re-sent until it is funded: nobody else could mint them).
/// </summary>
internal sealed partial class WalletFunds(SenderContext context, NonceLease nonces, SignerStatus status, FeeBumper bumper)
{
    /// <summary>Gas of a small mint: what a paused wallet must be able to pay for before it takes batches again.</summary>
    private const long ResumeGas = 150_000;

    /// <summary>True while the wallet sits out (paused for funds on a chain with other wallets): it sends nothing new this round.</summary>
    public async Task<bool> SittingOutAsync(BlockInfo block, CancellationToken ct)
    {
        if (!context.Shared || status.Current is not SignerNotice.Paused || context.Lease.Fence is not { } fence)
        {
            return false;
        }
        var withdrawn = await context.Store.WithdrawUnsentTxsAsync(fence, context.Now, ct).ConfigureAwait(false);
        if (withdrawn > 0)
        {
            TxsWithdrawn(context.Log, context.ChainName, context.Address, withdrawn);
            nonces.RequireSync();
        }
        var balance = await context.Node.GetBalanceAsync(context.Address, ct).ConfigureAwait(false);
        var fees = await bumper.MarketFeesAsync(block, ct).ConfigureAwait(false);
        if (balance < fees.MaxFeePerGas * ResumeGas)
        {
            return true;
        }
        await status.ResumeAsync(ct).ConfigureAwait(false);
        return false;
    }

    private DateTimeOffset _lowCheckedAt = DateTimeOffset.MinValue;

    /// <summary>
    /// Every <see cref="PipelineOptions.LowBalanceCheckInterval"/> on a chain with a low-balance threshold: the balance
    /// against it (metric <c>openmint_signer_low_balance</c>, a warning, a notice on pending requests while below).
    /// </summary>
    public async Task CheckLowBalanceAsync(CancellationToken ct)
    {
        if (context.Chain.LowBalanceWei is not { } text || context.Now - _lowCheckedAt < context.Options.LowBalanceCheckInterval)
        {
            return;
        }
        _lowCheckedAt = context.Now;
        var threshold = BigInteger.Parse(text, CultureInfo.InvariantCulture);
        var balance = await context.Node.GetBalanceAsync(context.Address, ct).ConfigureAwait(false);
        OpenMintMetrics.SignerBalance(context.ChainName, context.Address, balance);
        OpenMintMetrics.SignerLowBalance(context.ChainName, context.Address, balance < threshold);
        await status.BalanceReadAsync(balance, threshold, ct).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 4060, Level = LogLevel.Warning, Message = "Chain {Chain}: wallet {Signer} cannot pay for gas: gave {Count} unsent txs back to the queue for the chain's other wallets")]
    private static partial void TxsWithdrawn(ILogger log, string chain, string signer, int count);
}
