using System.Numerics;
using OpenMint.Chain;
using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

public class MintCallsTests
{
    private const string A = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
    private const string B = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

    [Fact]
    public void the_hand_encoded_calls_are_byte_for_byte_what_the_general_abi_codec_encodes()
    {
        var byQuantity = new[] { new MintEntry(A, [1, 2, 3], null, null), new MintEntry(B, [4], null, null) };
        Assert.Equal(Abi.EncodeCall(MintCalls.ByQuantitySignature, [new object[] { new object[] { A, new BigInteger(3) }, new object[] { B, BigInteger.One } }]),
            MintCalls.Encode(MintMethod.ByQuantity, byQuantity));

        var byId = new[] { new MintEntry(A, [1, 2], ["7", "9"], null), new MintEntry(B, [3], ["340282366920938463463374607431768211456"], null) };
        Assert.Equal(Abi.EncodeCall(MintCalls.ByIdSignature, [new object[]
            {
                new object[] { A, new BigInteger[] { 7, 9 } },
                new object[] { B, new[] { BigInteger.Pow(2, 128) } },
            }]),
            MintCalls.Encode(MintMethod.ById, byId));

        var erc1155 = new[] { new MintEntry(B, [1, 2], ["7", "9"], ["1", "30"]) };
        Assert.Equal(Abi.EncodeCall(MintCalls.Erc1155Signature, B, new BigInteger[] { 7, 9 }, new BigInteger[] { 1, 30 }, Array.Empty<byte>()),
            MintCalls.Encode(MintMethod.Erc1155, erc1155));
    }

    [Fact]
    public void an_erc1155_call_takes_exactly_one_owner()
    {
        var two = new[] { new MintEntry(A, [1], ["7"], ["1"]), new MintEntry(B, [2], ["8"], ["1"]) };
        Assert.Throws<ArgumentException>(() => MintCalls.Encode(MintMethod.Erc1155, two));
    }
}
