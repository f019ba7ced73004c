namespace OpenMint.Core.Pipeline;

/// <summary>
/// Orders new txs of one sender so that consecutive nonces fill blocks. A block builder takes one sender's txs
/// strictly in nonce order and stops at the first that does not fit: a tx fits while the gas <em>used</em> so far
/// in the block plus the tx's gas <em>limit</em> is within the block gas limit (geth's gas pool, Anvil's executor).
/// Anvil also drops every later nonce of that sender from its pool at that point, so a tx that does not fit
/// costs a re-send of all that follow it (see <c>Broadcaster.CheckPoolAsync</c>).
/// </summary>
public static class BlockPacker
{
    /// <summary>
    /// Continues the block that the txs already in flight (in nonce order) leave open, then repeatedly takes the
    /// largest new tx that still fits; when none fits a new block starts with the largest left. Returns the new
    /// items in nonce order.
    /// </summary>
    public static List<T> Order<T>(IEnumerable<(long GasLimit, long Gas)> inFlight, IEnumerable<T> items, Func<T, long> gasLimit, Func<T, long> gas, long blockGasLimit)
    {
        ArgumentNullException.ThrowIfNull(inFlight);
        ArgumentNullException.ThrowIfNull(items);
        long used = 0;
        foreach (var (limit, g) in inFlight)
        {
            used = Add(used, limit, g, blockGasLimit);
        }
        var left = items.OrderByDescending(gasLimit).ToList();
        var ordered = new List<T>(left.Count);
        while (left.Count > 0)
        {
            var next = left.FindIndex(i => used + gasLimit(i) <= blockGasLimit);
            if (next < 0)
            {
                next = 0; // nothing fits: the largest opens the next block
            }
            var item = left[next];
            left.RemoveAt(next);
            used = Add(used, gasLimit(item), gas(item), blockGasLimit);
            ordered.Add(item);
        }
        return ordered;
    }

    private static long Add(long used, long limit, long gas, long blockGasLimit) =>
        used + limit <= blockGasLimit ? used + gas : gas;
}
