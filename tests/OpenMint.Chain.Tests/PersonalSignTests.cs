namespace OpenMint.Chain.Tests;

public sealed class PersonalSignTests
{
    // docs/api.md, Metadata Refresh API, the signature test vector (from the reference client).
    private const string Key = "1111111111111111111111111111111111111111111111111111111111111111";
    private const string Address = "0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2a";
    private const string Message = "1700000000";
    private const string Signature =
        "0x09cc4051c6feeac098cb5a10598ea5a12947c95132de85bc00628a79d526aaba0e4f455ca4ed9f4cba8e4dab4a3a732c2ca8d87c3b7e3f05f73eae3be686a4fe00";

    [Fact]
    public void signing_the_api_vector_produces_exactly_the_published_signature()
    {
        Assert.Equal(Signature, PersonalSign.Sign(EthKey.FromHex(Key), Message));
    }

    [Fact]
    public void signing_matches_the_metamask_eth_sig_util_vector()
    {
        // @metamask/eth-sig-util, src/personal-sign.test.ts: "Hello, world!" signed with key 4af1bc…; v there is 0x1c.
        var key = EthKey.FromHex("4af1bceebf7f3634ec3cff8a2c38e51178d5d4ce585c52d6043e5e2cc3418bb0");
        const string expected =
            "0x90a938f7457df6e8f741264c32697fc52f9a8f867c52dd70713d9d2d472f2e415d9c94148991bbe1f4a1818d1dff09165782749c877f5cf1eff4ef126e55714d1c";
        Assert.Equal("0x29c76e6ad8f28bb1004902578fb108c507be341b", key.Address);
        Assert.Equal(expected[..^2] + "01", PersonalSign.Sign(key, "Hello, world!"));
        Assert.Equal(key.Address, PersonalSign.Recover("Hello, world!", expected));
    }

    [Fact]
    public void recovering_the_api_vector_returns_the_published_address()
    {
        Assert.Equal(Address, PersonalSign.Recover(Message, Signature));
    }

    [Theory]
    [InlineData("00")]
    [InlineData("1b")]
    [InlineData("1B")]
    public void v_written_as_00_or_27_recovers_the_same_address(string v)
    {
        Assert.Equal(Address, PersonalSign.Recover(Message, Signature[..^2] + v));
    }

    [Fact]
    public void v_01_and_1c_recover_the_other_candidate()
    {
        var flipped = PersonalSign.Recover(Message, Signature[..^2] + "01");
        Assert.NotNull(flipped);
        Assert.NotEqual(Address, flipped);
        Assert.Equal(flipped, PersonalSign.Recover(Message, Signature[..^2] + "1c"));
    }

    [Fact]
    public void a_different_message_recovers_a_different_address()
    {
        Assert.NotEqual(Address, PersonalSign.Recover("1700000001", Signature));
    }

    [Fact]
    public void the_hash_uses_the_eip191_prefix_with_the_byte_length()
    {
        byte[] preimage = [0x19, .. "Ethereum Signed Message:\n101700000000"u8];
        var expected = Keccak.Hash(preimage);
        Assert.Equal(expected, PersonalSign.Hash(Message));
        // Multi-byte UTF-8: the length counts bytes, not chars ("é" is 2 bytes).
        byte[] accented = [0x19, .. "Ethereum Signed Message:\n2"u8, 0xc3, 0xa9];
        Assert.Equal(Keccak.Hash(accented), PersonalSign.Hash("é"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0x")]
    [InlineData("0x1234")]
    [InlineData("0x09cc4051c6feeac098cb5a10598ea5a12947c95132de85bc00628a79d526aaba0e4f455ca4ed9f4cba8e4dab4a3a732c2ca8d87c3b7e3f05f73eae3be686a4fe")]
    [InlineData("0x09cc4051c6feeac098cb5a10598ea5a12947c95132de85bc00628a79d526aaba0e4f455ca4ed9f4cba8e4dab4a3a732c2ca8d87c3b7e3f05f73eae3be686a4fe0000")]
    [InlineData("0x09cc4051c6feeac098cb5a10598ea5a12947c95132de85bc00628a79d526aaba0e4f455ca4ed9f4cba8e4dab4a3a732c2ca8d87c3b7e3f05f73eae3be686a4fe02")]
    [InlineData("0x09cc4051c6feeac098cb5a10598ea5a12947c95132de85bc00628a79d526aaba0e4f455ca4ed9f4cba8e4dab4a3a732c2ca8d87c3b7e3f05f73eae3be686a4fe1d")]
    [InlineData("0xzzcc4051c6feeac098cb5a10598ea5a12947c95132de85bc00628a79d526aaba0e4f455ca4ed9f4cba8e4dab4a3a732c2ca8d87c3b7e3f05f73eae3be686a4fe00")]
    [InlineData("0x0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00")]
    public void malformed_signatures_return_null_without_throwing(string? signature)
    {
        Assert.Null(PersonalSign.Recover(Message, signature!));
    }

    [Fact]
    public void r_values_off_the_curve_return_null_without_throwing()
    {
        // About half of all x have no curve point; recovery from such an r must fail softly.
        var results = Enumerable.Range(1, 20)
            .Select(x => PersonalSign.Recover(Message, "0x" + x.ToString("x64", System.Globalization.CultureInfo.InvariantCulture) + new string('0', 63) + "1" + "00"))
            .ToList();
        Assert.Contains(null, results);
        Assert.Contains(results, r => r is not null);
    }
}
