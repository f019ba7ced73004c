using System.Diagnostics;
using OpenMint.DevChain;
using OpenMint.TestSupport;

namespace OpenMint.Chain.Tests.OnAnvil;

public sealed class DevChainTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private const string HasRole = "0x91d14854"; // hasRole(bytes32,address)

    [Fact]
    public async Task every_dev_collection_has_code_and_the_owner_is_admin()
    {
        Assert.Equal(6, anvil.Deployment.Collections.Count);
        foreach (var c in anvil.Deployment.Collections)
        {
            var code = (await RawRpc.CallAsync(anvil.RpcUrl, "eth_getCode", c.Address, "latest")).GetString()!;
            Assert.True(code.Length > 1000, c.Name + " has no code");
            Assert.True(await HasRoleAsync(c.Address, new byte[32], DevAccounts.OwnerAddress), c.Name + ": owner lacks DEFAULT_ADMIN_ROLE");
        }
    }

    [Fact]
    public async Task the_minter_has_minter_role_everywhere_but_on_the_no_minter_role_collection()
    {
        foreach (var c in anvil.Deployment.Collections)
        {
            Assert.Equal(c.Name != "erc721_no_minter_role", await HasRoleAsync(c.Address, PresetDeployer.MinterRole, DevAccounts.MinterAddress));
            Assert.Equal(c.MinterHasRole, await HasRoleAsync(c.Address, PresetDeployer.MinterRole, DevAccounts.MinterAddress));
        }
    }

    [Fact]
    public async Task deployment_works_under_interval_mining_and_without_automine()
    {
        await using var interval = await DevChain.DevChain.StartAsync(new AnvilOptions { BlockTimeSeconds = 2, ChainId = 13473 }, null, CancellationToken.None);
        Assert.Equal(13473, interval.ChainId);
        await using var manual = await DevChain.DevChain.StartAsync(new AnvilOptions { NoMining = true }, null, CancellationToken.None);
        foreach (var chain in new[] { interval, manual })
        {
            Assert.True(await HasRoleAsync(chain.RpcUrl, chain.Deployment["erc1155"].Address, PresetDeployer.MinterRole, DevAccounts.MinterAddress));
        }
    }

    [Fact]
    public async Task disposing_the_chain_stops_anvil()
    {
        var chain = await DevChain.DevChain.StartAsync(null, null, CancellationToken.None);
        var pid = chain.Anvil.ProcessId;
        await chain.DisposeAsync();
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
        await Assert.ThrowsAsync<HttpRequestException>(() => RawRpc.CallAsync(chain.RpcUrl, "eth_chainId"));
    }

    private Task<bool> HasRoleAsync(string contract, byte[] role, string account) => HasRoleAsync(anvil.RpcUrl, contract, role, account);

    private static async Task<bool> HasRoleAsync(Uri rpc, string contract, byte[] role, string account)
    {
        var data = HasRole + Convert.ToHexStringLower(role) + account[2..].PadLeft(64, '0');
        var result = (await RawRpc.CallAsync(rpc, "eth_call", new { to = contract, data }, "latest")).GetString()!;
        return result.EndsWith('1');
    }
}
