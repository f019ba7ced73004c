namespace OpenMint.DevChain;

/// <summary>Anvil's default dev accounts (mnemonic "test test test test test test test test test test test junk"). Public test keys: never fund them on a real chain.</summary>
public static class DevAccounts
{
    public const string Mnemonic = "test test test test test test test test test test test junk";

    /// <summary>Account 0: deploys the presets and holds DEFAULT_ADMIN_ROLE on them.</summary>
    public const string OwnerPrivateKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    public const string OwnerAddress = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

    /// <summary>Account 1: OpenMint's minter (MINTER_ROLE on every dev collection but erc721_no_minter_role).</summary>
    public const string MinterPrivateKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    public const string MinterAddress = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

    /// <summary>Accounts 2..4: funded, no roles; handy as recipients or as extra signers.</summary>
    public static IReadOnlyList<(string Address, string PrivateKey)> Others { get; } =
    [
        ("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"),
        ("0x90f79bf6eb2c4f870365e785982e1f101e93b906", "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"),
        ("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65", "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"),
    ];
}
