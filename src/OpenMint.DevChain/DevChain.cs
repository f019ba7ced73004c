namespace OpenMint.DevChain;

/// <summary>Anvil launcher and preset deployer. (Filled in by the foundation issue.)</summary>
public static class DevChainInfo
{
}
