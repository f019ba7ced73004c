using System.Text;

namespace OpenMint.Chain.Tests;

public sealed class KeccakAndAddressTests
{
    [Theory]
    // Keccak-256 (original padding) digests as published in the Keccak team's and Ethereum's test lists
    // (e.g. ethereum/tests, go-ethereum crypto tests: keccak256("") = c5d246...).
    [InlineData("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    [InlineData("The quick brown fox jumps over the lazy dog", "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15")]
    public void keccak256_matches_published_digests(string input, string expected)
    {
        Assert.Equal(expected, Hex.Encode(Keccak.Hash(Encoding.UTF8.GetBytes(input)), prefix: false));
    }

    [Fact]
    public void keccak256_is_not_sha3_256()
    {
        // FIPS-202 SHA3-256("") = a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a.
        Assert.NotEqual("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a", Hex.Encode(Keccak.Hash([]), prefix: false));
    }

    [Theory]
    // EIP-55 text, "Test Cases": all caps, all lower, and normal mixed-case addresses.
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE7")]
    [InlineData("0x8617E340B3D01FA5F11F306F4090FD50E238070D")]
    [InlineData("0xde709f2102306220921060314715629080e2fb77")]
    [InlineData("0x27b1fdb04752bbc536007a920d24acb045561c26")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB")]
    [InlineData("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb")]
    public void eip55_checksum_matches_the_eip_test_cases(string address)
    {
        Assert.Equal(address, EthAddress.ToChecksum(address.ToLowerInvariant()));
        Assert.True(EthAddress.IsValidChecksumOrUniformCase(address));
    }

    [Fact]
    public void a_wrong_checksum_is_detected_but_still_parses()
    {
        const string bad = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        Assert.False(EthAddress.IsValidChecksumOrUniformCase(bad));
        Assert.Equal("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", EthAddress.Parse(bad));
    }

    [Theory]
    // Private key 1: the generator point's address, listed in many wallets' tests (e.g. ethereumjs-util, web3.py).
    [InlineData("0x0000000000000000000000000000000000000000000000000000000000000001", "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")]
    // Anvil/Hardhat dev accounts 0 and 1 (mnemonic "test test ... junk"), printed by `anvil` at start-up.
    [InlineData("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")]
    [InlineData("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")]
    // docs/api.md metadata-refresh signature vector: 32 bytes of 0x11.
    [InlineData("1111111111111111111111111111111111111111111111111111111111111111", "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A")]
    public void private_key_derives_the_published_address(string privateKey, string checksummed)
    {
        var key = EthKey.FromHex(privateKey);
        Assert.Equal(checksummed.ToLowerInvariant(), key.Address);
        Assert.Equal(checksummed, EthAddress.ToChecksum(key.Address));
        Assert.Equal(64, key.PublicKey.Length);
        Assert.Equal(key.Address, EthAddress.FromPublicKey([0x04, .. key.PublicKey]));
    }

    [Fact]
    public void private_key_1_has_the_generator_as_public_key()
    {
        // SEC 2, section 2.4.1: G of secp256k1.
        var key = EthKey.FromHex("0x0000000000000000000000000000000000000000000000000000000000000001");
        Assert.Equal(
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
            Hex.Encode(key.PublicKey, prefix: false));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0x")]
    [InlineData("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd")]
    [InlineData("0xgaAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData(" 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    public void malformed_addresses_do_not_parse(string? input)
    {
        Assert.False(EthAddress.TryParse(input, out _));
        if (input is not null)
        {
            Assert.Throws<FormatException>(() => EthAddress.Parse(input));
        }
    }

    [Fact]
    public void addresses_parse_to_lower_case_with_either_prefix_case()
    {
        Assert.True(EthAddress.TryParse("0X52908400098527886E0F7030069857D2E4169EE7", out var lower));
        Assert.Equal("0x52908400098527886e0f7030069857d2e4169ee7", lower);
    }

    [Theory]
    [InlineData("0x00")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000001")]
    public void invalid_private_keys_are_rejected(string hex)
    {
        var error = Record.Exception(() => EthKey.FromHex(hex));
        Assert.True(error is FormatException or ArgumentException, error?.GetType().Name ?? "no exception");
    }

    [Fact]
    public void random_keys_are_distinct_and_sign()
    {
        var a = EthKey.Random();
        var b = EthKey.Random();
        Assert.NotEqual(a.Address, b.Address);
        var hash = Keccak.Hash("x"u8);
        Assert.Equal(a.PublicKey, Secp256k1.RecoverPublicKey(hash, a.Sign(hash)));
    }
}
