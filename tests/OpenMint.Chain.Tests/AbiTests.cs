using System.Numerics;
using System.Text;

namespace OpenMint.Chain.Tests;

public sealed class AbiTests
{
    private static string H(byte[] bytes) => Hex.Encode(bytes, prefix: false);

    private static string Words(params string[] words) => string.Concat(words);

    [Fact]
    public void baz_uint32_bool_matches_the_solidity_abi_spec_example()
    {
        // Solidity docs, abi-spec.rst "Examples": baz(69, true).
        var encoded = Abi.EncodeCall("baz(uint32,bool)", 69, true);
        Assert.Equal(
            "cdcd77c000000000000000000000000000000000000000000000000000000000000000450000000000000000000000000000000000000000000000000000000000000001",
            H(encoded));
        var decoded = Abi.Decode(["uint32", "bool"], encoded.AsSpan(4));
        Assert.Equal(new BigInteger(69), decoded[0]);
        Assert.Equal(true, decoded[1]);
    }

    [Fact]
    public void bar_bytes3_array_matches_the_solidity_abi_spec_example()
    {
        // Solidity docs, abi-spec.rst "Examples": bar(["abc", "def"]).
        var encoded = Abi.EncodeCall("bar(bytes3[2])", [new[] { "abc"u8.ToArray(), "def"u8.ToArray() }]);
        Assert.Equal(
            "fce353f661626300000000000000000000000000000000000000000000000000000000006465660000000000000000000000000000000000000000000000000000000000",
            H(encoded));
        var items = (object?[])Abi.Decode(["bytes3[2]"], encoded.AsSpan(4))[0]!;
        Assert.Equal("abc"u8.ToArray(), items[0]);
        Assert.Equal("def"u8.ToArray(), items[1]);
    }

    [Fact]
    public void sam_bytes_bool_uint_array_matches_the_solidity_abi_spec_example()
    {
        // Solidity docs, abi-spec.rst "Examples": sam("dave", true, [1,2,3]); "uint[]" canonicalises to uint256[].
        var encoded = Abi.EncodeCall("sam(bytes,bool,uint[])", "dave"u8.ToArray(), true, new[] { 1, 2, 3 });
        Assert.Equal(
            "a5643bf20000000000000000000000000000000000000000000000000000000000000060000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000a0000000000000000000000000000000000000000000000000000000000000000464617665000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000003",
            H(encoded));
        var decoded = Abi.Decode(["bytes", "bool", "uint256[]"], encoded.AsSpan(4));
        Assert.Equal("dave"u8.ToArray(), decoded[0]);
        Assert.Equal(true, decoded[1]);
        Assert.Equal(new object?[] { BigInteger.One, new BigInteger(2), new BigInteger(3) }, (object?[])decoded[2]!);
    }

    [Fact]
    public void f_with_dynamic_types_matches_the_solidity_abi_spec_example()
    {
        // Solidity docs, abi-spec.rst "Use of Dynamic Types": f(0x123, [0x456, 0x789], "1234567890", "Hello, world!").
        var encoded = Abi.EncodeCall("f(uint,uint32[],bytes10,bytes)",
            0x123, new[] { 0x456, 0x789 }, "1234567890"u8.ToArray(), "Hello, world!"u8.ToArray());
        Assert.Equal("8be65246" + Words(
            "0000000000000000000000000000000000000000000000000000000000000123",
            "0000000000000000000000000000000000000000000000000000000000000080",
            "3132333435363738393000000000000000000000000000000000000000000000",
            "00000000000000000000000000000000000000000000000000000000000000e0",
            "0000000000000000000000000000000000000000000000000000000000000002",
            "0000000000000000000000000000000000000000000000000000000000000456",
            "0000000000000000000000000000000000000000000000000000000000000789",
            "000000000000000000000000000000000000000000000000000000000000000d",
            "48656c6c6f2c20776f726c642100000000000000000000000000000000000000"), H(encoded));
        var decoded = Abi.Decode(["uint256", "uint32[]", "bytes10", "bytes"], encoded.AsSpan(4));
        Assert.Equal(new BigInteger(0x123), decoded[0]);
        Assert.Equal(new object?[] { new BigInteger(0x456), new BigInteger(0x789) }, (object?[])decoded[1]!);
        Assert.Equal("1234567890"u8.ToArray(), decoded[2]);
        Assert.Equal("Hello, world!", Encoding.UTF8.GetString((byte[])decoded[3]!));
    }

    [Fact]
    public void g_with_nested_dynamic_arrays_matches_the_solidity_abi_spec_example()
    {
        // Solidity docs, abi-spec.rst "Use of Dynamic Types": g([[1, 2], [3]], ["one", "two", "three"]).
        var encoded = Abi.EncodeCall("g(uint[][],string[])",
            new object[] { new[] { 1, 2 }, new[] { 3 } }, new[] { "one", "two", "three" });
        Assert.Equal("2289b18c" + Words(
            "0000000000000000000000000000000000000000000000000000000000000040",
            "0000000000000000000000000000000000000000000000000000000000000140",
            "0000000000000000000000000000000000000000000000000000000000000002",
            "0000000000000000000000000000000000000000000000000000000000000040",
            "00000000000000000000000000000000000000000000000000000000000000a0",
            "0000000000000000000000000000000000000000000000000000000000000002",
            "0000000000000000000000000000000000000000000000000000000000000001",
            "0000000000000000000000000000000000000000000000000000000000000002",
            "0000000000000000000000000000000000000000000000000000000000000001",
            "0000000000000000000000000000000000000000000000000000000000000003",
            "0000000000000000000000000000000000000000000000000000000000000003",
            "0000000000000000000000000000000000000000000000000000000000000060",
            "00000000000000000000000000000000000000000000000000000000000000a0",
            "00000000000000000000000000000000000000000000000000000000000000e0",
            "0000000000000000000000000000000000000000000000000000000000000003",
            "6f6e650000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000003",
            "74776f0000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000005",
            "7468726565000000000000000000000000000000000000000000000000000000"), H(encoded));
        var decoded = Abi.Decode(["uint256[][]", "string[]"], encoded.AsSpan(4));
        var outer = (object?[])decoded[0]!;
        Assert.Equal(new object?[] { BigInteger.One, new BigInteger(2) }, (object?[])outer[0]!);
        Assert.Equal(new object?[] { new BigInteger(3) }, (object?[])outer[1]!);
        Assert.Equal(new object?[] { "one", "two", "three" }, (object?[])decoded[1]!);
    }

    [Theory]
    // docs/chains.md (selectors measured against the @imtbl/contracts presets) and ERC-20/721 selectors from the EIPs.
    [InlineData("mintBatchByQuantity((address,uint256)[])", "e1927859")]
    [InlineData("mintBatch((address,uint256[])[])", "9e2641a3")]
    [InlineData("safeMintBatch(address,uint256[],uint256[],bytes)", "c39dfed8")]
    [InlineData("transfer(address,uint256)", "a9059cbb")]
    [InlineData("Error(string)", "08c379a0")]
    [InlineData("Panic(uint256)", "4e487b71")]
    [InlineData("mintBatch( (address, uint256[])[] )", "9e2641a3")]
    public void selectors_are_the_first_four_bytes_of_the_canonical_signature(string signature, string expected)
    {
        Assert.Equal(expected, H(Abi.Selector(signature)));
    }

    [Fact]
    public void event_topic_of_transfer_is_the_well_known_hash()
    {
        // keccak256("Transfer(address,address,uint256)"), topic 0 of every ERC-20/721 Transfer log.
        Assert.Equal("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", H(Abi.EventTopic("Transfer(address,address,uint256)")));
    }

    [Fact]
    public void negative_integers_are_twos_complement_and_round_trip()
    {
        var encoded = Abi.Encode(["int8", "int256", "int32"], [-1, BigInteger.MinusOne << 255, -123456]);
        Assert.Equal(new string('f', 64), H(encoded[..32]));
        Assert.Equal("8" + new string('0', 63), H(encoded[32..64]));
        var decoded = Abi.Decode(["int8", "int256", "int32"], encoded);
        Assert.Equal(BigInteger.MinusOne, decoded[0]);
        Assert.Equal(BigInteger.MinusOne << 255, decoded[1]);
        Assert.Equal(new BigInteger(-123456), decoded[2]);
    }

    [Fact]
    public void out_of_range_integers_are_rejected_when_encoding()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Abi.Encode(["uint8"], [256]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Abi.Encode(["uint256"], [-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Abi.Encode(["int8"], [128]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Abi.Encode(["int8"], [-129]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Abi.Encode(["uint256"], [BigInteger.One << 256]));
    }

    [Fact]
    public void mint_batch_with_nested_dynamic_tuples_round_trips()
    {
        var a = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
        var b = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
        var mints = new object[]
        {
            (a, new BigInteger[] { 1, 2, 3 }),
            new object[] { b, new[] { BigInteger.One << 127 } },
        };
        var call = Abi.EncodeCall("mintBatch((address,uint256[])[])", [mints]);
        Assert.Equal("9e2641a3", H(call[..4]));
        var decoded = (object?[])Abi.Decode(["(address,uint256[])[]"], call.AsSpan(4))[0]!;
        Assert.Equal(2, decoded.Length);
        var first = (object?[])decoded[0]!;
        Assert.Equal(a, first[0]);
        Assert.Equal(new object?[] { BigInteger.One, new BigInteger(2), new BigInteger(3) }, (object?[])first[1]!);
        var second = (object?[])decoded[1]!;
        Assert.Equal(b, second[0]);
        Assert.Equal(new object?[] { BigInteger.One << 127 }, (object?[])second[1]!);
    }

    [Fact]
    public void tuples_with_dynamic_members_are_encoded_by_offset()
    {
        // (uint256, string): a dynamic tuple, so the head holds an offset (0x20) to the tuple body.
        var encoded = Abi.Encode(["(uint256,string)"], [new object[] { 7, "hi" }]);
        Assert.Equal(Words(
            "0000000000000000000000000000000000000000000000000000000000000020",
            "0000000000000000000000000000000000000000000000000000000000000007",
            "0000000000000000000000000000000000000000000000000000000000000040",
            "0000000000000000000000000000000000000000000000000000000000000002",
            "6869000000000000000000000000000000000000000000000000000000000000"), H(encoded));
        var tuple = (object?[])Abi.Decode(["(uint256,string)"], encoded)[0]!;
        Assert.Equal(new BigInteger(7), tuple[0]);
        Assert.Equal("hi", tuple[1]);
    }

    [Fact]
    public void static_tuples_and_fixed_arrays_are_inline()
    {
        var encoded = Abi.Encode(["(address,uint256)", "address[2]", "bytes32"],
        [
            new object[] { "0x0000000000000000000000000000000000000001", 5 },
            new[] { "0x0000000000000000000000000000000000000002", "0x0000000000000000000000000000000000000003" },
            new byte[32],
        ]);
        Assert.Equal(5 * 32, encoded.Length);
        var decoded = Abi.Decode(["(address,uint256)", "address[2]", "bytes32"], encoded);
        Assert.Equal("0x0000000000000000000000000000000000000001", ((object?[])decoded[0]!)[0]);
        Assert.Equal("0x0000000000000000000000000000000000000003", ((object?[])decoded[1]!)[1]);
    }

    [Fact]
    public void empty_bytes_string_and_arrays_round_trip()
    {
        var encoded = Abi.Encode(["bytes", "string", "uint256[]"], [Array.Empty<byte>(), "", Array.Empty<int>()]);
        var decoded = Abi.Decode(["bytes", "string", "uint256[]"], encoded);
        Assert.Empty((byte[])decoded[0]!);
        Assert.Equal("", decoded[1]);
        Assert.Empty((object?[])decoded[2]!);
    }

    [Fact]
    public void truncated_or_lying_data_fails_with_format_exception()
    {
        var good = Abi.Encode(["string"], ["hello"]);
        Assert.Throws<FormatException>(() => Abi.Decode(["string"], good.AsSpan(0, 40)));
        var hugeOffset = (byte[])good.Clone();
        hugeOffset[0] = 0x7f;
        Assert.Throws<FormatException>(() => Abi.Decode(["string"], hugeOffset));
        var hugeArray = Abi.Encode(["uint256[]"], [new[] { 1 }]);
        hugeArray[32 + 28] = 0x7f;
        Assert.Throws<FormatException>(() => Abi.Decode(["uint256[]"], hugeArray));
        Assert.Throws<FormatException>(() => Abi.Decode(["bool"], Abi.Encode(["uint256"], [2])));
        Assert.Throws<FormatException>(() => Abi.Decode(["uint8"], Abi.Encode(["uint256"], [256])));
        Assert.Throws<FormatException>(() => Abi.Decode(["address"], Abi.Encode(["uint256"], [BigInteger.One << 160])));
    }

    [Theory]
    [InlineData("uint7")]
    [InlineData("uint264")]
    [InlineData("bytes33")]
    [InlineData("bytes0")]
    [InlineData("(uint256")]
    [InlineData("uint256[0]")]
    [InlineData("float")]
    public void unsupported_types_are_rejected(string type)
    {
        Assert.Throws<FormatException>(() => Abi.Encode([type], [0]));
    }

    [Theory]
    [InlineData("(uint256)")]
    [InlineData("noparens")]
    [InlineData("f(uint256")]
    public void malformed_signatures_are_rejected(string signature)
    {
        Assert.Throws<FormatException>(() => Abi.Selector(signature));
    }

    [Fact]
    public void argument_count_must_match_the_signature()
    {
        Assert.Throws<ArgumentException>(() => Abi.EncodeCall("transfer(address,uint256)", "0x0000000000000000000000000000000000000001"));
    }
}
