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
    public static List<T> Order<T>(IEnumerable<(long GasLimit, long Gas)> inFlight, IEnumerable<T> items, Func<T, long> gasLimit, Func<T, long> gas, long blockGasLimit) =>
        Place(inFlight, items, gasLimit, gas, blockGasLimit).Select(p => p.Item).ToList();

    /// <summary>
    /// As <see cref="Order"/>, with the block each new item lands in: 0 is the block the first tx in flight lands in
    /// (or, with none in flight, the first new one). With the txs not yet mined in flight, block 0 is the next block.
    /// </summary>
    public static List<(T Item, int Block)> Place<T>(IEnumerable<(long GasLimit, long Gas)> inFlight, IEnumerable<T> items, Func<T, long> gasLimit, Func<T, long> gas, long blockGasLimit)
    {
        ArgumentNullException.ThrowIfNull(inFlight);
        ArgumentNullException.ThrowIfNull(items);
        var open = new OpenBlock(blockGasLimit);
        foreach (var (limit, g) in inFlight)
        {
            open.Add(limit, g);
        }
        var left = items.OrderByDescending(gasLimit).ToList();
        var placed = new List<(T, int)>(left.Count);
        while (left.Count > 0)
        {
            var next = left.FindIndex(i => open.Fits(gasLimit(i)));
            if (next < 0)
            {
                next = 0; // nothing fits: the largest opens the next block
            }
            var item = left[next];
            left.RemoveAt(next);
            placed.Add((item, open.Add(gasLimit(item), gas(item))));
        }
        return placed;
    }

    /// <summary>The block being filled by the builder's rule: gas used so far, and its index from the first.</summary>
    private sealed class OpenBlock(long blockGasLimit)
    {
        private long _used;
        private int _index;

        public bool Fits(long limit) => _used + limit <= blockGasLimit;

        /// <summary>Adds a tx (to this block, or to a new one when it does not fit) and returns the block it lands in.</summary>
        public int Add(long limit, long gas)
        {
            if (!Fits(limit) && _used > 0)
            {
                _index++;
                _used = 0;
            }
            _used += gas;
            return _index;
        }
    }
}
