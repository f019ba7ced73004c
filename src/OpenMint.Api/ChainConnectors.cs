using OpenMint.Core.Pipeline;

namespace OpenMint.Api;

/// <summary>The production way to reach a chain: its first RPC URL and the minter key named by minter_key_ref.</summary>
internal static class ChainConnectors
{
    public static ChainConnector Create(PipelineOptions options) => new(
        chain => throw new InvalidOperationException("the Chain layer's JSON-RPC client has not landed yet"),
        chain => throw new InvalidOperationException("the Chain layer's signer has not landed yet"));
}
