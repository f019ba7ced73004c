using System.Numerics;

namespace OpenMint.Chain.Tests;

public sealed class RevertAndEventTests
{
    [Fact]
    public void error_string_revert_decodes_to_its_message()
    {
        // Solidity docs, control-structures "revert": revert("Not enough Ether provided.") return data.
        var data = Hex.Decode("0x08c379a0"
            + "0000000000000000000000000000000000000000000000000000000000000020"
            + "000000000000000000000000000000000000000000000000000000000000001a"
            + "4e6f7420656e6f7567682045746865722070726f76696465642e000000000000");
        Assert.Equal("Not enough Ether provided.", RevertReason.Decode(data));
    }

    [Fact]
    public void panic_0x11_decodes_to_arithmetic_overflow()
    {
        // Solidity docs, control-structures "Panic via assert": code 0x11 is arithmetic under/overflow.
        var data = Hex.Decode("0x4e487b71" + "0000000000000000000000000000000000000000000000000000000000000011");
        Assert.Equal("panic: 0x11 (arithmetic overflow)", RevertReason.Decode(data));
        Assert.Equal("panic: 0x32 (array index out of bounds)", RevertReason.Decode(Hex.Decode("0x4e487b71" + new string('0', 62) + "32")));
        Assert.Equal("panic: 0x99", RevertReason.Decode(Hex.Decode("0x4e487b71" + new string('0', 62) + "99")));
    }

    [Fact]
    public void known_custom_errors_decode_with_arguments()
    {
        // docs/chains.md: 0xb73c99f5 IImmutableERC721IDAboveThreshold(uint256).
        var data = Hex.Decode("0xb73c99f5" + "000000000000000000000000000000000000000000000000000000000000007b");
        Assert.Equal("IImmutableERC721IDAboveThreshold(123)", RevertReason.Decode(data));

        var minter = "4d494e5445525f524f4c45000000000000000000000000000000000000000000";
        var unauthorized = Hex.Decode("0xe2517d3f"
            + "000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266" + minter);
        Assert.Equal("AccessControlUnauthorizedAccount(0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266,0x" + minter + ")",
            RevertReason.Decode(unauthorized));
    }

    [Theory]
    // Selectors as published: docs/chains.md (Immutable), go-ethereum abigen bindings and ethers-rs bindings of OpenZeppelin 5.
    [InlineData("IImmutableERC721IDAboveThreshold(uint256)", "b73c99f5")]
    [InlineData("AccessControlUnauthorizedAccount(address,bytes32)", "e2517d3f")]
    [InlineData("ERC721InvalidSender(address)", "73c6ac6e")]
    [InlineData("ERC721InvalidReceiver(address)", "64a0ae92")]
    [InlineData("ERC721NonexistentToken(uint256)", "7e273289")]
    [InlineData("ERC20InsufficientBalance(address,uint256,uint256)", "e450d38c")]
    public void custom_error_selectors_match_published_values(string signature, string selector)
    {
        Assert.Equal(selector, Hex.Encode(Abi.Selector(signature), prefix: false));
        Assert.Contains(signature, RevertReason.KnownErrors);
    }

    [Fact]
    public void known_errors_have_distinct_selectors()
    {
        var selectors = RevertReason.KnownErrors.Select(e => Hex.Encode(Abi.Selector(e))).ToList();
        Assert.Equal(selectors.Count, selectors.Distinct().Count());
    }

    [Fact]
    public void empty_unknown_and_broken_data_never_throw()
    {
        Assert.Equal("(no reason)", RevertReason.Decode(ReadOnlySpan<byte>.Empty));
        Assert.Equal("0xdeadbeef01", RevertReason.Decode(Hex.Decode("0xdeadbeef01")));
        Assert.Equal("0x0102", RevertReason.Decode(Hex.Decode("0x0102")));
        // Error(string) whose offset points nowhere: raw hex, not an exception.
        Assert.Equal("0x08c379a0ff", RevertReason.Decode(Hex.Decode("0x08c379a0ff")));
        Assert.Equal("(no reason)", RevertReason.Decode((string?)null));
        Assert.Equal("not hex", RevertReason.Decode("not hex"));
    }

    private static string Topic(string address) => "0x" + new string('0', 24) + address[2..];

    [Fact]
    public void erc721_transfer_log_decodes()
    {
        var log = new LogEntry("0x5fbdb2315678afecb367f032d93f642f64180aa3",
            [Erc721Events.TransferTopic, Topic(EthAddress.Zero), Topic("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),
             "0x" + (BigInteger.Pow(2, 128) + 256).ToString("x64", System.Globalization.CultureInfo.InvariantCulture)],
            "0x", 0, "0x01", 1);
        Assert.True(Erc721Events.TryDecodeTransfer(log, out var from, out var to, out var id));
        Assert.Equal(EthAddress.Zero, from);
        Assert.Equal("0x70997970c51812dc3a010c7d01b50e0d17dc79c8", to);
        Assert.Equal(BigInteger.Pow(2, 128) + 256, id);
    }

    [Fact]
    public void erc20_transfer_with_three_topics_is_not_an_erc721_transfer()
    {
        var log = new LogEntry("0x5fbdb2315678afecb367f032d93f642f64180aa3",
            [Erc721Events.TransferTopic, Topic(EthAddress.Zero), Topic(EthAddress.Zero)],
            Hex.Encode(Abi.Encode(["uint256"], [5])), null, null, null);
        Assert.False(Erc721Events.TryDecodeTransfer(log, out _, out _, out _));
    }

    [Fact]
    public void erc1155_topics_are_the_published_hashes()
    {
        // Topic 0 of TransferSingle / TransferBatch as found in OpenZeppelin ERC1155 bytecode and many indexers.
        Assert.Equal("0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62", Erc1155Events.TransferSingleTopic);
        Assert.Equal("0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb", Erc1155Events.TransferBatchTopic);
    }

    [Fact]
    public void erc1155_transfer_batch_and_single_decode()
    {
        var op = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
        var to = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
        var batch = new LogEntry("0x01", [Erc1155Events.TransferBatchTopic, Topic(op), Topic(EthAddress.Zero), Topic(to)],
            Hex.Encode(Abi.Encode(["uint256[]", "uint256[]"], [new[] { 1, 2 }, new[] { 10, 20 }])), 3, null, null);
        Assert.True(Erc1155Events.TryDecodeTransferBatch(batch, out var bop, out var bfrom, out var bto, out var ids, out var values));
        Assert.Equal((op, EthAddress.Zero, to), (bop, bfrom, bto));
        Assert.Equal([BigInteger.One, new BigInteger(2)], ids);
        Assert.Equal([new BigInteger(10), new BigInteger(20)], values);
        Assert.False(Erc1155Events.TryDecodeTransferSingle(batch, out _, out _, out _, out _, out _));

        var single = batch with { Topics = [Erc1155Events.TransferSingleTopic, .. batch.Topics.Skip(1)], Data = Hex.Encode(Abi.Encode(["uint256", "uint256"], [7, 1])) };
        Assert.True(Erc1155Events.TryDecodeTransferSingle(single, out _, out _, out var sto, out var id, out var value));
        Assert.Equal(to, sto);
        Assert.Equal(new BigInteger(7), id);
        Assert.Equal(BigInteger.One, value);

        var broken = batch with { Data = "0x1234" };
        Assert.False(Erc1155Events.TryDecodeTransferBatch(broken, out _, out _, out _, out _, out _));
    }
}

public sealed class RevertReasonFuzzTests
{
    [Fact]
    public void random_tails_after_known_selectors_never_throw()
    {
        var random = new Random(20261122);
        var selectors = RevertReason.KnownErrors.Select(Abi.Selector).Append([0x08, 0xc3, 0x79, 0xa0]).Append([0x4e, 0x48, 0x7b, 0x71]).ToList();
        foreach (var selector in selectors)
        {
            for (var i = 0; i < 50; i++)
            {
                var tail = new byte[random.Next(0, 200)];
                random.NextBytes(tail);
                if (i % 3 == 0 && tail.Length >= 32)
                {
                    // Small offsets/lengths make deeper decoding paths reachable.
                    Array.Clear(tail, 0, 31);
                }
                var text = RevertReason.Decode([.. selector, .. tail]);
                Assert.False(string.IsNullOrEmpty(text));
            }
        }
    }

    [Fact]
    public void random_signatures_never_throw_in_personal_sign_recover()
    {
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[65];
            random.NextBytes(bytes);
            bytes[64] = (byte)(i % 4 switch { 0 => 0, 1 => 1, 2 => 27, _ => 28 });
            var recovered = PersonalSign.Recover("1700000000", Hex.Encode(bytes));
            Assert.True(recovered is null || EthAddress.TryParse(recovered, out _));
        }
    }
}
