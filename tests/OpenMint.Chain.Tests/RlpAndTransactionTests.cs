using System.Numerics;
using System.Text;

namespace OpenMint.Chain.Tests;

public sealed class RlpAndTransactionTests
{
    private static byte[] Str(string s) => Rlp.EncodeBytes(Encoding.ASCII.GetBytes(s));

    private static string H(byte[] b) => Hex.Encode(b, prefix: false);

    [Fact]
    public void rlp_matches_the_ethereum_wiki_examples()
    {
        // ethereum.org / Ethereum wiki "RLP" examples (also the yellow paper, appendix B).
        Assert.Equal("83646f67", H(Str("dog")));
        Assert.Equal("c88363617483646f67", H(Rlp.EncodeList(Str("cat"), Str("dog"))));
        Assert.Equal("80", H(Str("")));
        Assert.Equal("c0", H(Rlp.EncodeList()));
        Assert.Equal("80", H(Rlp.EncodeInteger(0)));
        Assert.Equal("00", H(Rlp.EncodeBytes([0x00])));
        Assert.Equal("0f", H(Rlp.EncodeInteger(15)));
        Assert.Equal("820400", H(Rlp.EncodeInteger(1024)));
        // The set-theoretical representation of three: [ [], [[]], [ [], [[]] ] ].
        var empty = Rlp.EncodeList();
        var three = Rlp.EncodeList(empty, Rlp.EncodeList(empty), Rlp.EncodeList(empty, Rlp.EncodeList(empty)));
        Assert.Equal("c7c0c1c0c3c0c1c0", H(three));
        // A 56-byte string switches to the long form: 0xb8 0x38.
        var lorem = Str("Lorem ipsum dolor sit amet, consectetur adipisicing elit");
        Assert.Equal("b838", H(lorem[..2]));
        Assert.Equal(58, lorem.Length);
    }

    [Fact]
    public void rlp_decodes_what_it_encodes()
    {
        var empty = Rlp.EncodeList();
        var three = Rlp.Decode(Rlp.EncodeList(empty, Rlp.EncodeList(empty), Rlp.EncodeList(empty, Rlp.EncodeList(empty))));
        Assert.True(three.IsList);
        Assert.Equal("[[], [[]], [[], [[]]]]", three.ToString());
        var list = Rlp.Decode(Rlp.EncodeList(Str("cat"), Str("dog"), Rlp.EncodeInteger(1024), Rlp.EncodeBytes(new byte[300])));
        Assert.Equal("cat", Encoding.ASCII.GetString(list.Items[0].Bytes));
        Assert.Equal(1024, list.Items[2].ToLong());
        Assert.Equal(300, list.Items[3].Bytes.Length);
        Assert.Equal(BigInteger.Zero, Rlp.Decode(Rlp.EncodeInteger(0)).ToBigInteger());
        var big = BigInteger.Pow(2, 200) + 5;
        Assert.Equal(big, Rlp.Decode(Rlp.EncodeInteger(big)).ToBigInteger());
    }

    [Theory]
    [InlineData("")]              // nothing
    [InlineData("8100")]          // single byte < 0x80 wrapped in a header
    [InlineData("83646f")]        // truncated string
    [InlineData("b80100")]        // long form for a 1-byte payload
    [InlineData("b90000")]        // length with a leading zero
    [InlineData("c883636174")]    // list shorter than declared
    [InlineData("83646f6700")]    // trailing byte
    [InlineData("c2826162")]      // item runs past its list
    public void non_canonical_or_truncated_rlp_is_rejected(string hex)
    {
        Assert.Throws<FormatException>(() => Rlp.Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void rlp_integers_with_leading_zeros_are_rejected()
    {
        Assert.Throws<FormatException>(() => Rlp.Decode(Rlp.EncodeBytes([0x00, 0x01])).ToBigInteger());
    }

    [Fact]
    public void eip155_example_transaction_matches_the_eip_text()
    {
        // EIP-155 text, "Example": nonce 9, gasPrice 20 gwei, gas 21000, to 0x3535…35, 1 ether, chain 1, key 0x4646…46.
        var tx = new LegacyTransaction(1, 9, 20_000_000_000, 21000, "0x3535353535353535353535353535353535353535",
            BigInteger.Pow(10, 18), []);
        Assert.Equal("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53", H(tx.SigningHash()));
        var signed = tx.Sign(EthKey.FromHex("0x4646464646464646464646464646464646464646464646464646464646464646"));
        Assert.Equal(
            "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83",
            H(signed.Raw));
        Assert.Equal(Hex.Encode(Keccak.Hash(signed.Raw)), signed.Hash);
        Assert.Equal(9, signed.Nonce);
        Assert.Equal("0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f", TransactionDecoder.RecoverSender(signed.Raw));
    }

    [Theory]
    // ethereumjs-monorepo, packages/tx/test/json/eip1559.json (chain 7822 = 0x1e8e, to 0x…aaaa, empty data).
    // The file wraps each typed envelope in an RLP string header (b87x), which is stripped here.
    [InlineData(819, 43203529, 35552, 75853, 121212,
        "02f870821e8e8203338301284d8301d97c828ae094000000000000000000000000000000000000aaaa8402933bc980c080a0d067f2167008c59219652f91cbf8788dbca5f771f6e91e2b7657e85b78b472e0a01d305af9fe81fdba43f0dfcd400ed24dcace0a7e30d4e85701dcaaf484cd079e")]
    [InlineData(353, 61901619, 32593, 38850, 136295,
        "02f86f821e8e8201618297c283021467827f5194000000000000000000000000000000000000aaaa8403b08b3380c001a004205678f13fc1d7b10feea6513dfa76e24418b6e08097d95c6f93a3b64e536da01d45ad61bfece43862de2cce7d2575a8c1d08c26c87f3cb5f26d7b0be54a91b2")]
    [InlineData(119, 65456115, 62341, 24721, 107729,
        "02f86d821e8e778260918301a4d182f38594000000000000000000000000000000000000aaaa8403e6c7f380c001a0e38e239770801eb995498c821e55ac9c19ae09184bb27b34be105e02fe3b7615a067c64ca6bd6d9107e85fd581ab2e70a14b637eb36505bb40861ef9d6e800cab6")]
    public void eip1559_transactions_match_ethereumjs_vectors(long nonce, long value, long gasLimit, long tip, long maxFee, string raw)
    {
        var key = EthKey.FromHex("0x8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63");
        var tx = new Eip1559Transaction(7822, nonce, tip, maxFee, gasLimit, "0x000000000000000000000000000000000000aaaa", value, []);
        var signed = tx.Sign(key);
        Assert.Equal(raw, H(signed.Raw));
        Assert.Equal(Hex.Encode(Keccak.Hash(signed.Raw)), signed.Hash);
        Assert.Equal(key.Address, TransactionDecoder.RecoverSender(signed.Raw));
    }

    [Fact]
    public void eip1559_signing_hash_covers_the_type_byte_and_nine_fields()
    {
        var tx = new Eip1559Transaction(31337, 0, 1, 2, 21000, null, 0, [0x60, 0x00]);
        byte[] payload =
        [
            0x02, .. Rlp.EncodeList(Rlp.EncodeInteger(31337), Rlp.EncodeInteger(0), Rlp.EncodeInteger(1), Rlp.EncodeInteger(2),
                Rlp.EncodeInteger(21000), Rlp.EncodeBytes([]), Rlp.EncodeInteger(0), Rlp.EncodeBytes([0x60, 0x00]), Rlp.EncodeList()),
        ];
        Assert.Equal(Keccak.Hash(payload), tx.SigningHash());
        var key = EthKey.FromHex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
        var signed = tx.Sign(key);
        Assert.Equal(0x02, signed.Raw[0]);
        Assert.Equal(12, Rlp.Decode(signed.Raw.AsSpan(1)).Items.Count);
        Assert.Equal(key.Address, TransactionDecoder.RecoverSender(signed.Raw));
        // Deterministic: signing twice yields the same bytes and hash (a re-broadcast is the same tx).
        Assert.Equal(signed.Hash, tx.Sign(key).Hash);
    }

    [Fact]
    public void pre_eip155_legacy_transactions_use_v_27_or_28()
    {
        var key = EthKey.FromHex("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
        var signed = new LegacyTransaction(null, 3, 1_000_000_000, 21000, "0x3535353535353535353535353535353535353535", 1, []).Sign(key);
        var v = Rlp.Decode(signed.Raw).Items[6].ToBigInteger();
        Assert.True(v == 27 || v == 28);
        Assert.Equal(key.Address, TransactionDecoder.RecoverSender(signed.Raw));
    }

    [Fact]
    public void decoding_garbage_transactions_fails_with_format_exception()
    {
        Assert.Throws<FormatException>(() => TransactionDecoder.RecoverSender([]));
        Assert.Throws<FormatException>(() => TransactionDecoder.RecoverSender([0x01, 0xc0]));
        Assert.Throws<FormatException>(() => TransactionDecoder.RecoverSender([0x02, 0xc0]));
        Assert.Throws<FormatException>(() => TransactionDecoder.RecoverSender([0xc0]));
    }
}
