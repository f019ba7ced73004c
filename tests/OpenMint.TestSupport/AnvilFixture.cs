using OpenMint.DevChain;
using Xunit;

namespace OpenMint.TestSupport;

/// <summary>
/// A real Anvil with the presets deployed (see <see cref="DevChainDeployment"/>), one per test class
/// (<c>IClassFixture&lt;AnvilFixture&gt;</c>) or collection. Subclass and override <see cref="Options"/> for
/// interval mining, --no-mining, another chain id or the EIP-7825 cap. A missing Anvil fails with how to fix it.
/// </summary>
public class AnvilFixture : IAsyncLifetime
{
    private DevChain.DevChain? _chain;

    protected virtual AnvilOptions Options => new();

    protected virtual PresetDeployOptions DeployOptions => new();

    public DevChain.DevChain Chain => _chain ?? throw new InvalidOperationException("AnvilFixture is not initialised");
    public DevChainDeployment Deployment => Chain.Deployment;
    public Uri RpcUrl => Chain.RpcUrl;
    public AnvilProcess Anvil => Chain.Anvil;

    public async Task InitializeAsync()
    {
        if (ChainTools.FindAnvil() is null || ChainTools.FindArtifactsDirectory() is null)
        {
            throw new InvalidOperationException(
                $"Anvil or the compiled presets are missing (tools/chain). {ChainTools.HowToInstall}" +
                (TestEnvironment.IsCi ? " CI=true: the Anvil-backed tests must run." : ""));
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        _chain = await DevChain.DevChain.StartAsync(Options, DeployOptions, cts.Token).ConfigureAwait(false);
    }

    public async Task DisposeAsync()
    {
        if (_chain is not null)
        {
            await _chain.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>A chain that mines a block every 2 s, like zkEVM (receipts are not immediate).</summary>
public sealed class IntervalMiningAnvilFixture : AnvilFixture
{
    protected override AnvilOptions Options => new() { BlockTimeSeconds = 2 };
}

/// <summary>A chain that enforces EIP-7825's per-transaction gas cap (16,777,216).</summary>
public sealed class TxGasCapAnvilFixture : AnvilFixture
{
    protected override AnvilOptions Options => new() { EnableTxGasLimit = true };
}
