using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenMint.Chain;
using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

/// <summary>
/// A scripted node and signer for faults Anvil cannot produce on cue (transport failures on a given
/// call, refusing funds, dropping on demand). Nonces, replacement rules (+10% on both fees, as geth)
/// and receipts follow a real pool; by-quantity calls emit Transfer logs with V1-style contiguous ids.
/// </summary>
internal sealed class FakeChain : IChainNode, ITxSigner
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, Pooled> _pool = new();
    private readonly Dictionary<string, MintReceipt> _receipts = new(StringComparer.Ordinal);
    private readonly List<string> _minedHashes = [];
    private readonly Dictionary<long, string> _blockHashes = new() { [1] = BlockHash(1, 0) };
    private readonly Dictionary<long, long> _blockTimes = new() { [1] = 0 };
    private readonly Dictionary<string, int> _tokensOf = new(StringComparer.Ordinal);
    private int _fork;
    private long _mined;
    private long _block = 1;
    private long _blockTimestamp;
    private TimeSpan _blockTime;
    private DateTimeOffset _nextBlockAt;
    private BigInteger _nextToken = BigInteger.Pow(2, 128);

    public string Address { get; } = "0x00000000000000000000000000000000000000aa";
    public bool Automine { get; set; } = true;
    public bool NoFunds { get; set; }
    public int FailSends { get; set; }
    public bool Down { get; set; }
    public Func<string, string?> RevertFor { get; set; } = _ => null;
    /// <summary>Added to every estimate (state that moved since the first estimate).</summary>
    public long ExtraGas { get; set; }
    /// <summary>Answers the next estimates get instead of a gas figure (e.g. insufficient funds).</summary>
    public Queue<NodeResult> ScriptedEstimates { get; } = new();
    /// <summary>Answers the next sends get, without touching the pool (e.g. nonce too high).</summary>
    public Queue<NodeResult> ScriptedSends { get; } = new();
    public int Estimates { get; private set; }
    public List<string> Sent { get; } = [];
    public int MintedTokens { get; private set; }
    public long Mined => _mined;

    private sealed record Pooled(string Hash, long Nonce, BigInteger Tip, BigInteger Cap, string To, byte[] Data, long Gas);

    /// <summary>A mint mined with a gas limit below this runs out of gas: it reverts having used its whole limit.</summary>
    public long OutOfGasBelow { get; set; }

    private sealed record Fields(long Nonce, string Tip, string Cap, long Gas, string To, string Data);

    public SignedMintTx Sign(long chainId, long nonce, BigInteger maxPriorityFeePerGas, BigInteger maxFeePerGas, long gasLimit, string to, BigInteger value, byte[] data)
    {
        var raw = JsonSerializer.SerializeToUtf8Bytes(new Fields(nonce, maxPriorityFeePerGas.ToString(), maxFeePerGas.ToString(), gasLimit, to, Convert.ToHexString(data)));
        return new SignedMintTx(raw, "0x" + Convert.ToHexStringLower(SHA256.HashData(raw)), nonce);
    }

    private void Check()
    {
        if (Down)
        {
            throw new ChainUnavailableException("connection refused");
        }
    }

    public Task<long> GetTransactionCountAsync(string address, string block, CancellationToken ct)
    {
        Check();
        lock (_gate)
        {
            var n = _mined;
            if (block == "pending")
            {
                while (_pool.ContainsKey(n))
                {
                    n++;
                }
            }
            return Task.FromResult(n);
        }
    }

    public Task<BlockInfo> GetLatestBlockAsync(CancellationToken ct)
    {
        Check();
        lock (_gate)
        {
            CatchUpLocked();
            return Task.FromResult(new BlockInfo(_block, 30_000_000, 0, 1_000_000_000, _blockTimestamp, _blockHashes[_block]));
        }
    }

    /// <summary>Blocks by number with their hash (a reorg gives the replaced numbers new hashes).</summary>
    public int BlockReads { get; private set; }

    public Task<BlockInfo?> GetBlockAsync(long number, CancellationToken ct)
    {
        Check();
        lock (_gate)
        {
            BlockReads++;
            return Task.FromResult(_blockHashes.TryGetValue(number, out var hash) && number <= _block
                ? new BlockInfo(number, 30_000_000, 0, 1_000_000_000, _blockTimes[number], hash) : null);
        }
    }

    private static string BlockHash(long number, int fork) => "0x" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"block {number} fork {fork}")));

    /// <summary>
    /// anvil_reorg: the last <paramref name="depth"/> blocks are replaced by as many new ones (new hashes). The txs they held
    /// lose their receipts; with <paramref name="backToPool"/> they go back to the pool and are mined again in the first new
    /// block, else they are gone (as on Anvil). <paramref name="foreignMints"/> tokens are minted by someone else first in
    /// the new blocks, so a tx mined again gets other ids; <paramref name="nonceTakenElsewhere"/> lets a foreign tx of the
    /// signer take the first freed nonce (our tx can never be mined again).
    /// </summary>
    public void Reorg(int depth, bool backToPool = false, int foreignMints = 0, bool nonceTakenElsewhere = false)
    {
        lock (_gate)
        {
            var cut = _block - depth;
            foreach (var gone in _receipts.Values.Where(r => r.BlockNumber > cut).OrderBy(r => r.BlockNumber).ToList())
            {
                _receipts.Remove(gone.TransactionHash);
                _minedHashes.Remove(gone.TransactionHash);
                _nextToken -= _tokensOf.GetValueOrDefault(gone.TransactionHash);
                MintedTokens -= _tokensOf.GetValueOrDefault(gone.TransactionHash);
                _mined--;
                if (backToPool && _unmined.TryGetValue(gone.TransactionHash, out var pooled))
                {
                    _pool[pooled.Nonce] = pooled;
                }
            }
            _nextToken += foreignMints;
            if (nonceTakenElsewhere)
            {
                _mined++;
            }
            _fork++;
            _block = cut;
            for (var i = 0; i < depth; i++)
            {
                MineLocked();
            }
        }
    }

    private readonly Dictionary<string, Pooled> _unmined = new(StringComparer.Ordinal);

    /// <summary>Stamps blocks with this clock's time (unix seconds); without it every timestamp is 0.</summary>
    public ManualTime? Clock
    {
        get => _clockValue;
        set
        {
            _clockValue = value;
            _blockTimestamp = value?.GetUtcNow().ToUnixTimeSeconds() ?? 0;
            _blockTimes[_block] = _blockTimestamp;
        }
    }

    private ManualTime? _clockValue;

    /// <summary>Interval mining: from now on a block every <paramref name="blockTime"/> of <paramref name="clock"/>, with or without txs.</summary>
    public void MineEvery(TimeSpan blockTime, ManualTime clock)
    {
        lock (_gate)
        {
            Automine = false;
            Clock = clock;
            _blockTime = blockTime;
            _nextBlockAt = clock.GetUtcNow() + blockTime;
        }
    }

    /// <summary>Block numbers mined so far, by tx hash (the block each tx landed in).</summary>
    public long BlockOf(string hash)
    {
        lock (_gate)
        {
            return _receipts[hash].BlockNumber;
        }
    }

    private void CatchUpLocked()
    {
        while (_blockTime > TimeSpan.Zero && Clock is not null && Clock.GetUtcNow() >= _nextBlockAt)
        {
            MineLocked(_nextBlockAt);
            _nextBlockAt += _blockTime;
        }
    }

    public Task<BigInteger> MaxPriorityFeePerGasAsync(CancellationToken ct) => Task.FromResult<BigInteger>(1_000_000_000);

    public Task<BigInteger> GetBalanceAsync(string address, CancellationToken ct) => Task.FromResult(NoFunds ? BigInteger.Zero : BigInteger.Pow(10, 20));

    public Task<GasEstimate> EstimateGasAsync(string from, string to, byte[] data, CancellationToken ct)
    {
        Check();
        Estimates++;
        if (ScriptedEstimates.TryDequeue(out var scripted))
        {
            return Task.FromResult(new GasEstimate(0, scripted));
        }
        var entries = DecodeByQuantity(data);
        foreach (var (owner, _) in entries)
        {
            if (RevertFor(owner) is { } reason)
            {
                return Task.FromResult(new GasEstimate(0, new NodeResult(SendOutcome.Reverted, reason)));
            }
        }
        return Task.FromResult(new GasEstimate(40_000 + 60_000L * entries.Count + ExtraGas, null));
    }

    /// <summary>When set, mint calls mined from now on revert on chain (status 0, no logs) with this reason.</summary>
    public string? MinedRevert { get; set; }

    public Task<NodeResult?> CallForRevertAsync(string from, string to, byte[] data, long gas, string block, CancellationToken ct) =>
        Task.FromResult(MinedRevert is null ? null : new NodeResult(SendOutcome.Reverted, MinedRevert));

    public Task<NodeResult> SendRawTransactionAsync(byte[] raw, CancellationToken ct)
    {
        Check();
        if (FailSends > 0)
        {
            FailSends--;
            throw new ChainUnavailableException("timeout");
        }
        if (ScriptedSends.TryDequeue(out var scripted))
        {
            return Task.FromResult(scripted);
        }
        var f = JsonSerializer.Deserialize<Fields>(raw)!;
        var hash = "0x" + Convert.ToHexStringLower(SHA256.HashData(raw));
        lock (_gate)
        {
            Sent.Add(hash);
            if (_receipts.ContainsKey(hash) || _pool.Values.Any(p => p.Hash == hash))
            {
                return Task.FromResult(new NodeResult(SendOutcome.Accepted, "already known"));
            }
            if (f.Nonce < _mined)
            {
                return Task.FromResult(new NodeResult(SendOutcome.NonceTooLow, "nonce too low"));
            }
            if (NoFunds)
            {
                return Task.FromResult(new NodeResult(SendOutcome.InsufficientFunds, "Insufficient funds for gas * price + value"));
            }
            var tip = BigInteger.Parse(f.Tip);
            var cap = BigInteger.Parse(f.Cap);
            if (_pool.TryGetValue(f.Nonce, out var old) && (tip < FeePolicy.PlusTenPercent(old.Tip) || cap < FeePolicy.PlusTenPercent(old.Cap)))
            {
                return Task.FromResult(new NodeResult(SendOutcome.Underpriced, "replacement transaction underpriced"));
            }
            _pool[f.Nonce] = new Pooled(hash, f.Nonce, tip, cap, f.To, Convert.FromHexString(f.Data), f.Gas);
            if (Automine)
            {
                MineLocked();
            }
            return Task.FromResult(NodeResult.Ok);
        }
    }

    public void Mine()
    {
        lock (_gate)
        {
            MineLocked();
        }
    }

    private void MineLocked(DateTimeOffset? at = null)
    {
        _block++;
        _blockHashes[_block] = BlockHash(_block, _fork);
        _blockTimestamp = (at ?? Clock?.GetUtcNow())?.ToUnixTimeSeconds() ?? 0;
        _blockTimes[_block] = _blockTimestamp;
        while (_pool.Remove(_mined, out var tx))
        {
            var logs = new List<LogEntry>();
            var outOfGas = tx.Data.Length > 0 && tx.Gas < OutOfGasBelow;
            var reverted = (MinedRevert is not null && tx.Data.Length > 0) || outOfGas;
            if (tx.Data.Length > 0 && !reverted)
            {
                foreach (var (owner, quantity) in DecodeByQuantity(tx.Data))
                {
                    for (var i = 0; i < quantity; i++)
                    {
                        logs.Add(new LogEntry(tx.To, [Erc721Events.TransferTopic, Word(0), "0x" + new string('0', 24) + owner[2..], Word(_nextToken)], "0x", logs.Count, tx.Hash, _block));
                        _nextToken++;
                        MintedTokens++;
                    }
                }
            }
            _receipts[tx.Hash] = new MintReceipt(tx.Hash, _block, !reverted, outOfGas ? tx.Gas : 50_000, logs, _blockHashes[_block]);
            _tokensOf[tx.Hash] = logs.Count;
            _unmined[tx.Hash] = tx;
            _minedHashes.Add(tx.Hash);
            _mined++;
        }
    }

    public void Drop(long nonce)
    {
        lock (_gate)
        {
            _pool.Remove(nonce);
        }
    }

    public int PoolSize
    {
        get
        {
            lock (_gate)
            {
                return _pool.Count;
            }
        }
    }

    public Task<MintReceipt?> GetReceiptAsync(string hash, CancellationToken ct)
    {
        Check();
        lock (_gate)
        {
            return Task.FromResult(_receipts.GetValueOrDefault(hash));
        }
    }

    public Task<bool> IsKnownAsync(string hash, CancellationToken ct)
    {
        Check();
        lock (_gate)
        {
            return Task.FromResult(_receipts.ContainsKey(hash) || _pool.Values.Any(p => p.Hash == hash));
        }
    }

    /// <summary>Batched pool checks (<see cref="AreKnownAsync"/> calls) so far.</summary>
    public int PoolChecks { get; private set; }

    public async Task<IReadOnlyList<bool>> AreKnownAsync(IReadOnlyList<string> hashes, CancellationToken ct)
    {
        PoolChecks++;
        var known = new bool[hashes.Count];
        for (var i = 0; i < known.Length; i++)
        {
            known[i] = await IsKnownAsync(hashes[i], ct);
        }
        return known;
    }

    private static string Word(BigInteger v) => "0x" + Convert.ToHexStringLower(MintCalls.Word(v));

    private static List<(string Owner, int Quantity)> DecodeByQuantity(byte[] data)
    {
        var result = new List<(string, int)>();
        if (data.Length < 4 + 64 || !data.AsSpan(0, 4).SequenceEqual(MintCalls.ByQuantitySelector))
        {
            return result;
        }
        var n = (int)new BigInteger(data.AsSpan(4 + 32, 32), true, true);
        for (var i = 0; i < n; i++)
        {
            var at = 4 + 64 + 64 * i;
            result.Add(("0x" + Convert.ToHexStringLower(data.AsSpan(at + 12, 20)), (int)new BigInteger(data.AsSpan(at + 32, 32), true, true)));
        }
        return result;
    }
}

/// <summary>A clock tests move by hand.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;

    /// <summary>Never behind <paramref name="real"/> (intake stamps requests with the real clock).</summary>
    public void CatchUp(DateTimeOffset real) => _now = real > _now ? real : _now;
}
