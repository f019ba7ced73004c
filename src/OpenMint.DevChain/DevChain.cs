namespace OpenMint.DevChain;

/// <summary>A running Anvil with the presets deployed; dispose to stop Anvil. Used by tests and <c>openmint dev</c>.</summary>
public sealed class DevChain : IAsyncDisposable
{
    private DevChain(AnvilProcess anvil, DevChainDeployment deployment)
    {
        Anvil = anvil;
        Deployment = deployment;
    }

    public AnvilProcess Anvil { get; }
    public DevChainDeployment Deployment { get; }
    public Uri RpcUrl => Anvil.RpcUrl;
    public long ChainId => Deployment.ChainId;

    public static async Task<DevChain> StartAsync(AnvilOptions? anvilOptions, PresetDeployOptions? deployOptions, CancellationToken ct)
    {
        var artifacts = PresetArtifacts.Load();
        var anvil = await AnvilProcess.StartAsync(anvilOptions, ct).ConfigureAwait(false);
        try
        {
            var deployment = await PresetDeployer.DeployAsync(anvil.RpcUrl, artifacts, deployOptions, ct).ConfigureAwait(false);
            return new DevChain(anvil, deployment);
        }
        catch
        {
            await anvil.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask DisposeAsync() => Anvil.DisposeAsync();
}
