using System.Numerics;

namespace OpenMint.Core.Pipeline;

public sealed record Fees(BigInteger MaxPriorityFeePerGas, BigInteger MaxFeePerGas);

/// <summary>EIP-1559 pricing and geth-compatible replacement (both fields +10% at least), capped by configuration.</summary>
public static class FeePolicy
{
    /// <summary>tip = max(market tip, floor); cap = tip + 2 × base fee; never above <paramref name="maxFee"/>.</summary>
    public static Fees Initial(BigInteger marketTip, BigInteger baseFee, BigInteger minTip, BigInteger maxFee)
    {
        var tip = BigInteger.Max(marketTip, minTip);
        var cap = BigInteger.Min(tip + 2 * baseFee, maxFee);
        return new Fees(BigInteger.Min(tip, cap), cap);
    }

    /// <summary>ceil(x × 1.10): the least geth accepts for a replacement.</summary>
    public static BigInteger PlusTenPercent(BigInteger x) => (x * 11 + 9) / 10;

    /// <summary>
    /// The replacement's fees, or null when the cap does not allow a valid (+10% on both) replacement:
    /// then the tx is kept as it is.
    /// </summary>
    public static Fees? Bump(Fees old, Fees market, BigInteger maxFee)
    {
        var tip = BigInteger.Max(market.MaxPriorityFeePerGas, PlusTenPercent(old.MaxPriorityFeePerGas));
        var cap = BigInteger.Max(market.MaxFeePerGas, PlusTenPercent(old.MaxFeePerGas));
        cap = BigInteger.Max(cap, tip);
        if (cap > maxFee)
        {
            cap = maxFee;
        }
        if (tip > cap)
        {
            tip = cap;
        }
        if (cap < PlusTenPercent(old.MaxFeePerGas) || tip < PlusTenPercent(old.MaxPriorityFeePerGas))
        {
            return null;
        }
        return new Fees(tip, cap);
    }
}
