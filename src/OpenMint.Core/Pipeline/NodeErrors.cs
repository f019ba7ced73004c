namespace OpenMint.Core.Pipeline;

/// <summary>
/// The one place node error messages become outcomes. Node messages differ by client (geth,
/// Anvil/reth, Erigon, Nethermind): the phrases below cover the ones we know; anything else is
/// <see cref="SendOutcome.Rejected"/>. JSON-RPC code 3 is always a revert.
/// </summary>
public static class NodeErrors
{
    public static SendOutcome Classify(int code, string? message)
    {
        var m = (message ?? "").ToLowerInvariant();
        if (code == 3 || m.Contains("execution reverted", StringComparison.Ordinal))
        {
            return SendOutcome.Reverted;
        }
        if (m.Contains("already known", StringComparison.Ordinal) || m.Contains("known transaction", StringComparison.Ordinal)
            || m.Contains("already imported", StringComparison.Ordinal) || m.Contains("alreadyknown", StringComparison.Ordinal)
            || m.Contains("transaction already exists", StringComparison.Ordinal))
        {
            return SendOutcome.Accepted;
        }
        if (m.Contains("nonce too low", StringComparison.Ordinal) || m.Contains("nonce is too low", StringComparison.Ordinal) || m.Contains("oldnonce", StringComparison.Ordinal))
        {
            return SendOutcome.NonceTooLow;
        }
        if (m.Contains("nonce too high", StringComparison.Ordinal) || m.Contains("nonce gap", StringComparison.Ordinal))
        {
            return SendOutcome.NonceTooHigh;
        }
        if (m.Contains("replacement transaction underpriced", StringComparison.Ordinal) || m.Contains("underpriced", StringComparison.Ordinal)
            || m.Contains("fee too low", StringComparison.Ordinal))
        {
            return SendOutcome.Underpriced;
        }
        if (m.Contains("less than block base fee", StringComparison.Ordinal) || m.Contains("max fee per gas less than", StringComparison.Ordinal)
            || m.Contains("feecap below base", StringComparison.Ordinal) || m.Contains("fee cap less than base fee", StringComparison.Ordinal))
        {
            return SendOutcome.FeeCapBelowBaseFee;
        }
        if (m.Contains("insufficient funds", StringComparison.Ordinal) || m.Contains("insufficient balance", StringComparison.Ordinal))
        {
            return SendOutcome.InsufficientFunds;
        }
        if (m.Contains("intrinsic gas too high", StringComparison.Ordinal) || m.Contains("exceeds block gas limit", StringComparison.Ordinal)
            || m.Contains("gas limit reached", StringComparison.Ordinal) || m.Contains("tx_gas_limit_cap", StringComparison.Ordinal)
            || m.Contains("gas limit too high", StringComparison.Ordinal) || m.Contains("oversized", StringComparison.Ordinal))
        {
            return SendOutcome.TooBig;
        }
        return SendOutcome.Rejected;
    }
}
