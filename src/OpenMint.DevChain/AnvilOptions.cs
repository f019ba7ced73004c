namespace OpenMint.DevChain;

/// <summary>How to run Anvil. Defaults model a fast local chain: automine, chain id 31337.</summary>
public sealed record AnvilOptions
{
    /// <summary>Chain id (Anvil's default is 31337).</summary>
    public long? ChainId { get; init; }

    /// <summary>Interval mining every N seconds (zkEVM-like: 2). Null: automine, each tx its own block.</summary>
    public int? BlockTimeSeconds { get; init; }

    /// <summary>No automine: transactions stay pending until <c>evm_mine</c> (or <c>evm_setAutomine(true)</c>).</summary>
    public bool NoMining { get; init; }

    /// <summary>Enforce EIP-7825's per-transaction gas cap (16,777,216).</summary>
    public bool EnableTxGasLimit { get; init; }

    /// <summary>Print Anvil's per-request log (kept in <see cref="AnvilProcess.RecentOutput"/>); off by default.</summary>
    public bool Verbose { get; init; }

    /// <summary>Any other Anvil arguments, passed as given.</summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } = [];

    /// <summary>The anvil binary; default: env OPENMINT_ANVIL, else tools/chain/node_modules/... under the repository.</summary>
    public string? AnvilPath { get; init; }

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
