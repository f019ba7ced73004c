using System.Numerics;
using Microsoft.Extensions.Logging;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// Why a signer is not minting, shown on every pending request of its chain (<c>signer_lease.paused_reason</c>).
/// A closed union: <see cref="Paused"/> (it cannot pay gas; sends wait until a stored tx is accepted) or
/// <see cref="Unreachable"/> (the chain's RPC has not answered; cleared on the first good answer). The texts are
/// what callers read in <c>error.message</c>; the store keeps only the text, converted back by <see cref="FromStored"/>.
/// </summary>
internal abstract record SignerNotice
{
    private SignerNotice(string message) => Message = message;

    public string Message { get; }

    public sealed record Paused : SignerNotice
    {
        internal Paused(string message) : base(message) { }
    }

    public sealed record Unreachable : SignerNotice
    {
        internal Unreachable(string message) : base(message) { }
    }

    /// <summary>A warning only: the wallet's balance is under the chain's <c>low_balance_wei</c>; it keeps minting.</summary>
    public sealed record LowFunds : SignerNotice
    {
        internal LowFunds(string message) : base(message) { }
    }

    /// <summary>True for the notices that stop sends (<see cref="Paused"/>, <see cref="Unreachable"/>), not for a warning.</summary>
    public bool HoldsSends => this is Paused or Unreachable;

    public static Paused InsufficientFunds(string chain, string minter, BigInteger balance) =>
        new($"minting on chain {chain} is paused: the minter {minter} has insufficient funds for gas (balance {balance} wei); fund it and minting resumes");

    public static Unreachable ChainUnreachable(string chain, DateTimeOffset since, string error) =>
        new($"{UnreachablePrefix(chain)} since {Time.ToWire(since)} ({error}); minting resumes when it answers");

    public static LowFunds LowBalance(string chain, string minter, BigInteger balance, BigInteger threshold) =>
        new($"{LowFundsPrefix(chain)}: the minter {minter} has {balance} wei, below the chain's low balance of {threshold} wei; minting continues: fund it before it runs out");

    /// <summary>The notice a stored reason stands for (the one place its text is read back); null when there is none.</summary>
    public static SignerNotice? FromStored(string chain, string? stored) => stored switch
    {
        null => null,
        _ when stored.StartsWith(UnreachablePrefix(chain), StringComparison.Ordinal) => new Unreachable(stored),
        _ when stored.StartsWith(LowFundsPrefix(chain), StringComparison.Ordinal) => new LowFunds(stored),
        _ => new Paused(stored),
    };

    private static string UnreachablePrefix(string chain) => $"chain {chain} is unreachable";

    private static string LowFundsPrefix(string chain) => $"funds are low on chain {chain}";
}

/// <summary>
/// The signer's notice as its sender sees it: paused for funds, or the chain unreachable for longer than
/// <see cref="PipelineOptions.RpcOutageNoticeAfter"/>; both written through to the store, which shows them on
/// pending requests.
/// </summary>
internal sealed partial class SignerStatus(SenderContext context)
{
    private SignerNotice? _current;
    private SignerNotice.Unreachable? _outage;
    private DateTimeOffset _lastRpcOk = context.Now;

    public SignerNotice? Current => _current;

    /// <summary>Takes the stored reason as the lease row gives it.</summary>
    public void Load(string? stored) => _current = SignerNotice.FromStored(context.ChainName, stored);

    /// <summary>The node refused gas money: pause with the minter's balance in the notice.</summary>
    public async Task PauseForFundsAsync(CancellationToken ct)
    {
        var balance = await context.Node.GetBalanceAsync(context.Address, ct).ConfigureAwait(false);
        var notice = SignerNotice.InsufficientFunds(context.ChainName, context.Address, balance);
        if (_current != notice)
        {
            SignerPaused(context.Log, context.ChainName, context.Address, notice.Message);
        }
        _current = notice;
        await context.Store.SetSignerNoticeAsync(context.ChainName, context.Address, notice.Message, context.Now, ct).ConfigureAwait(false);
    }

    /// <summary>A broadcast was accepted: whatever held the signer is over (a low-funds warning stays until the balance is checked again).</summary>
    public async Task ResumeAsync(CancellationToken ct)
    {
        if (_current is null or SignerNotice.LowFunds)
        {
            return;
        }
        SignerResumed(context.Log, context.ChainName, context.Address);
        _current = null;
        await context.Store.SetSignerNoticeAsync(context.ChainName, context.Address, null, context.Now, ct).ConfigureAwait(false);
    }

    public async Task RpcFailedAsync(ChainUnavailableException ex, CancellationToken ct)
    {
        RpcUnavailable(context.Log, context.ChainName, ex.Message);
        var now = context.Now;
        if (now - _lastRpcOk >= context.Options.RpcOutageNoticeAfter && _current is null or SignerNotice.Unreachable or SignerNotice.LowFunds)
        {
            // Every failing tick, not once: requests accepted during the outage must show the notice too
            // (the store only touches pending requests that do not show it yet).
            _outage ??= _current as SignerNotice.Unreachable ?? SignerNotice.ChainUnreachable(context.ChainName, _lastRpcOk, ex.Message);
            await context.Store.SetSignerNoticeAsync(context.ChainName, context.Address, _outage.Message, now, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The node answered: an outage notice (ours, or one a previous instance left) is cleared.</summary>
    public async Task RpcAnsweredAsync(CancellationToken ct)
    {
        _lastRpcOk = context.Now;
        _outage = null;
        if (_current is SignerNotice.Unreachable)
        {
            await ResumeAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The balance was read against the chain's low-balance threshold: below it (and not paused) the warning is logged
    /// once and shown on pending requests; back above it the warning clears.
    /// </summary>
    public async Task BalanceReadAsync(BigInteger balance, BigInteger threshold, CancellationToken ct)
    {
        var low = balance < threshold;
        if (low && _current is null or SignerNotice.LowFunds)
        {
            // Every check, not once: requests accepted since the last one must show it too (the store only touches those
            // that do not show it yet). The text keeps the balance first seen low, so it is not rewritten each time.
            if (_current is not SignerNotice.LowFunds)
            {
                _current = SignerNotice.LowBalance(context.ChainName, context.Address, balance, threshold);
                LowBalance(context.Log, context.ChainName, context.Address, balance.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    threshold.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            await context.Store.SetSignerNoticeAsync(context.ChainName, context.Address, _current.Message, context.Now, ct).ConfigureAwait(false);
        }
        else if (!low && _current is SignerNotice.LowFunds)
        {
            _current = null;
            SignerResumed(context.Log, context.ChainName, context.Address);
            await context.Store.SetSignerNoticeAsync(context.ChainName, context.Address, null, context.Now, ct).ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 4063, Level = LogLevel.Warning, Message = "Chain {Chain}: signer {Signer} is low on funds: balance {Balance} wei is below the chain's low balance of {Threshold} wei")]
    private static partial void LowBalance(ILogger log, string chain, string signer, string balance, string threshold);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Error, Message = "Chain {Chain}: signer {Signer} paused: {Reason}")]
    private static partial void SignerPaused(ILogger log, string chain, string signer, string reason);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Information, Message = "Chain {Chain}: signer {Signer} resumed")]
    private static partial void SignerResumed(ILogger log, string chain, string signer);

    [LoggerMessage(EventId = 4016, Level = LogLevel.Warning, Message = "Chain {Chain}: RPC unavailable: {Message}")]
    private static partial void RpcUnavailable(ILogger log, string chain, string message);
}
