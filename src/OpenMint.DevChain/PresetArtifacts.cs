using System.Text.Json;
using OpenMint.Chain;

namespace OpenMint.DevChain;

/// <summary>A compiled contract from tools/chain/artifacts (written by tools/chain/compile.mjs).</summary>
public sealed record ContractArtifact(string Name, JsonElement Abi, byte[] Bytecode);

/// <summary>The compiled presets: OperatorAllowlistUpgradeable, ERC1967Proxy, ImmutableERC721V2, ImmutableERC721 (v1), ImmutableERC721MintByID, ImmutableERC1155.</summary>
public sealed class PresetArtifacts
{
    public static readonly IReadOnlyList<string> ContractNames =
        ["OperatorAllowlistUpgradeable", "ERC1967Proxy", "ImmutableERC721V2", "ImmutableERC721", "ImmutableERC721MintByID", "ImmutableERC1155"];

    private readonly Dictionary<string, ContractArtifact> _contracts;

    private PresetArtifacts(string directory, string inputsHash, Dictionary<string, ContractArtifact> contracts)
    {
        Directory = directory;
        InputsHash = inputsHash;
        _contracts = contracts;
    }

    public string Directory { get; }

    /// <summary>Hash of the compile inputs (lock file, compile script, solc): identifies this build of the presets.</summary>
    public string InputsHash { get; }

    public ContractArtifact this[string name] => _contracts.TryGetValue(name, out var c)
        ? c : throw new KeyNotFoundException($"no artifact {name} in {Directory}");

    /// <summary>Loads from <paramref name="directory"/> or from tools/chain/artifacts; throws with how to fix when absent.</summary>
    public static PresetArtifacts Load(string? directory = null)
    {
        directory ??= ChainTools.FindArtifactsDirectory()
            ?? throw new FileNotFoundException($"The preset contracts are not compiled (tools/chain/artifacts). {ChainTools.HowToInstall}");
        var contracts = new Dictionary<string, ContractArtifact>(StringComparer.Ordinal);
        foreach (var name in ContractNames)
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, name + ".json")));
            var root = doc.RootElement;
            contracts[name] = new ContractArtifact(name, root.GetProperty("abi").Clone(), Hex.Decode(root.GetProperty("bytecode").GetString()!));
        }
        return new PresetArtifacts(directory, File.ReadAllText(Path.Combine(directory, ".inputs-hash")).Trim(), contracts);
    }
}
