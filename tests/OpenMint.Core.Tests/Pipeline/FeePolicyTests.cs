using System.Numerics;
using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

public class FeePolicyTests
{
    private static readonly BigInteger Gwei = 1_000_000_000;

    [Fact]
    public void a_new_tx_pays_the_market_tip_and_twice_the_base_fee_on_top()
    {
        var fees = FeePolicy.Initial(Gwei, 10 * Gwei, 0, 1000 * Gwei);
        Assert.Equal(Gwei, fees.MaxPriorityFeePerGas);
        Assert.Equal(21 * Gwei, fees.MaxFeePerGas);
        Assert.Equal(2 * Gwei, FeePolicy.Initial(Gwei, 10 * Gwei, 2 * Gwei, 1000 * Gwei).MaxPriorityFeePerGas);
    }

    [Fact]
    public void a_replacement_raises_both_tip_and_fee_cap_by_at_least_ten_percent_rounding_up()
    {
        var old = new Fees(1_000_000_001, 3_000_000_001);
        var bumped = FeePolicy.Bump(old, new Fees(1, 1), 1000 * Gwei)!;
        Assert.Equal(1_100_000_002, bumped.MaxPriorityFeePerGas);
        Assert.Equal(3_300_000_002, bumped.MaxFeePerGas);
        Assert.True(bumped.MaxPriorityFeePerGas * 10 >= old.MaxPriorityFeePerGas * 11);
        Assert.True(bumped.MaxFeePerGas * 10 >= old.MaxFeePerGas * 11);
    }

    [Fact]
    public void a_replacement_follows_the_market_when_it_rose_more_than_ten_percent()
    {
        var bumped = FeePolicy.Bump(new Fees(Gwei, 3 * Gwei), new Fees(5 * Gwei, 50 * Gwei), 1000 * Gwei)!;
        Assert.Equal(5 * Gwei, bumped.MaxPriorityFeePerGas);
        Assert.Equal(50 * Gwei, bumped.MaxFeePerGas);
    }

    [Fact]
    public void no_replacement_when_the_configured_max_fee_does_not_allow_ten_percent_more()
    {
        Assert.Null(FeePolicy.Bump(new Fees(Gwei, 10 * Gwei), new Fees(Gwei, 10 * Gwei), 10 * Gwei + 1));
        var capped = FeePolicy.Bump(new Fees(Gwei, 10 * Gwei), new Fees(Gwei, 100 * Gwei), 20 * Gwei)!;
        Assert.Equal(20 * Gwei, capped.MaxFeePerGas);
    }
}
