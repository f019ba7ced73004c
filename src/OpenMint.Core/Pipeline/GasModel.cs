using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// First estimate of a call's gas from the measurements in docs/chains.md (warm contract, fresh owners),
/// rounded up. eth_estimateGas has the last word; <see cref="Calibration"/> learns the ratio
/// between the two per collection and method so the next batches are sized closer to the target.
/// </summary>
public static class GasModel
{
    public static long TxBase(MintMethod method) => method switch
    {
        MintMethod.ByQuantity => 36_000,
        MintMethod.ById => 33_000,
        _ => 34_000,
    };

    /// <summary>Gas of one entry holding <paramref name="count"/> tokens.</summary>
    public static long Entry(MintMethod method, PresetVariant variant, int count)
    {
        if (count <= 0)
        {
            return 0;
        }
        return method switch
        {
            MintMethod.ByQuantity when variant == PresetVariant.Erc721V1 => 28_000 + 2_100L * (count - 1),
            // V2 starts a new 256-aligned group per entry and per 256 tokens.
            MintMethod.ByQuantity => 73_000 + 2_100L * (count - 1) + 23_000L * ((count - 1) / 256),
            MintMethod.ById => 51_000 + 27_000L * (count - 1),
            _ => 47_000L * count,
        };
    }

    /// <summary>Marginal gas of adding one more token to an entry that has <paramref name="count"/>.</summary>
    public static long AddOne(MintMethod method, PresetVariant variant, int count) =>
        Entry(method, variant, count + 1) - Entry(method, variant, count);
}

/// <summary>Ratio actual/model per (collection, method), learned from estimates; starts at 1.</summary>
public sealed class GasCalibration
{
    private readonly Dictionary<(long, MintMethod), double> _ratio = new();
    private readonly Lock _gate = new();

    public double Ratio(long collectionId, MintMethod method)
    {
        lock (_gate)
        {
            return _ratio.TryGetValue((collectionId, method), out var r) ? r : 1.0;
        }
    }

    public void Observe(long collectionId, MintMethod method, long modelGas, long actualGas)
    {
        if (modelGas <= 0 || actualGas <= 0)
        {
            return;
        }
        var observed = Math.Clamp((double)actualGas / modelGas, 0.2, 5.0);
        lock (_gate)
        {
            _ratio[(collectionId, method)] = _ratio.TryGetValue((collectionId, method), out var r) ? 0.5 * r + 0.5 * observed : observed;
        }
    }
}
