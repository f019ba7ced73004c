using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

public class NodeErrorsTests
{
    [Theory]
    [InlineData(-32003, "nonce too low", SendOutcome.NonceTooLow)]
    [InlineData(-32000, "nonce too low: next nonce 5, tx nonce 3", SendOutcome.NonceTooLow)]
    [InlineData(-32003, "replacement transaction underpriced", SendOutcome.Underpriced)]
    [InlineData(-32003, "Insufficient funds for gas * price + value", SendOutcome.InsufficientFunds)]
    [InlineData(-32000, "insufficient funds for gas * price + value: balance 0, tx cost 100", SendOutcome.InsufficientFunds)]
    [InlineData(-32003, "max fee per gas less than block base fee", SendOutcome.FeeCapBelowBaseFee)]
    [InlineData(-32000, "intrinsic gas too high -- tx.gas_limit > env.block.gas_limit", SendOutcome.TooBig)]
    [InlineData(-32000, "intrinsic gas too high -- tx.gas_limit > env.cfg.tx_gas_limit_cap", SendOutcome.TooBig)]
    [InlineData(-32000, "exceeds block gas limit", SendOutcome.TooBig)]
    [InlineData(-32000, "already known", SendOutcome.Accepted)]
    [InlineData(3, "execution reverted: AccessControl: account 0x01 is missing role 0x02", SendOutcome.Reverted)]
    [InlineData(-32000, "execution reverted", SendOutcome.Reverted)]
    [InlineData(-32000, "nonce too high", SendOutcome.NonceTooHigh)]
    [InlineData(-32602, "invalid params", SendOutcome.Rejected)]
    public void node_errors_are_classified_once_into_outcomes(int code, string message, SendOutcome expected) =>
        Assert.Equal(expected, NodeErrors.Classify(code, message));
}
