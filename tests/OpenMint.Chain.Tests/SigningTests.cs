using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace OpenMint.Chain.Tests;

public sealed class SigningTests
{
    private static readonly BigInteger HalfN = Secp256k1.N / 2;

    [Theory]
    // RFC 6979 (HMAC-SHA256) secp256k1 vectors posted at bitcointalk.org/index.php?topic=285142 and reused by
    // bitcoinj, trezor-crypto and python-ecdsa; the hash is SHA-256 of the message, s is the low-s form.
    [InlineData("0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
        "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8", "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000001", "All those moments will be lost in time, like tears in rain. Time to die...",
        "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b", "547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21")]
    [InlineData("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
        "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0", "6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5")]
    [InlineData("f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181", "Alan Turing",
        "7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c", "58dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea")]
    [InlineData("e91671c46231f833a6406ccbea0e3e392c76c167bac1cb013f6f1013980455c2",
        "There is a computer disease that anybody who works with computers knows about. It's a very serious disease and it interferes completely with the work. The trouble with computers is that you 'play' with them!",
        "b552edd27580141f3b2a5463048cb7cd3e047b97c9f98076c32dbdf85a68718b", "279fa72dd19bfae05577e06c7c0c1900c371fcd5893f7e1d56a37d30174671f6")]
    public void rfc6979_signatures_match_published_vectors(string privateKey, string message, string r, string s)
    {
        var key = EthKey.FromHex(privateKey);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(message));
        var sig = key.Sign(hash);
        Assert.Equal(r, Hex.Encode(sig.ToBytes65().AsSpan(0, 32), prefix: false));
        Assert.Equal(s, Hex.Encode(sig.ToBytes65().AsSpan(32, 32), prefix: false));
        Assert.Equal(key.PublicKey, Secp256k1.RecoverPublicKey(hash, sig));
    }

    [Fact]
    public void signing_is_deterministic_low_s_and_recoverable()
    {
        var seenIds = new HashSet<int>();
        for (var i = 1; i <= 40; i++)
        {
            var key = EthKey.FromHex(Convert.ToHexString(Keccak.Hash(BitConverter.GetBytes(i))));
            var hash = Keccak.Hash(Encoding.UTF8.GetBytes("message " + i));
            var first = key.Sign(hash);
            var second = key.Sign(hash);
            Assert.Equal(first, second);
            Assert.True(first.S <= HalfN, "s must be in the low half (EIP-2)");
            Assert.InRange(first.RecoveryId, 0, 1);
            seenIds.Add(first.RecoveryId);
            Assert.Equal(key.PublicKey, Secp256k1.RecoverPublicKey(hash, first));
            // The other recovery id yields a different key: the id is load-bearing.
            var other = Secp256k1.TryRecoverPublicKey(hash, first with { RecoveryId = 1 - first.RecoveryId });
            Assert.NotEqual(key.PublicKey, other);
        }
        // Both parities occur across 40 signatures (chance of one missing: 2^-39), so both paths are exercised.
        Assert.Equal(2, seenIds.Count);
    }

    [Fact]
    public void signatures_are_always_low_s()
    {
        // EIP-2: nodes reject s > n/2. About half of raw ECDSA signatures are high-s, so 200 random keys and
        // hashes would almost surely (1 - 2^-200) include one that needed normalising.
        for (var i = 0; i < 200; i++)
        {
            var key = EthKey.Random();
            var hash = RandomNumberGenerator.GetBytes(32);
            var sig = key.Sign(hash);
            Assert.InRange(sig.S, BigInteger.One, HalfN);
            Assert.Equal(key.PublicKey, Secp256k1.RecoverPublicKey(hash, sig));
        }
    }

    [Fact]
    public void the_high_s_twin_recovers_the_same_key_with_the_other_recovery_id()
    {
        // (r, n - s) is the same signature with R's y negated: recovery (like ecrecover) accepts it with the id flipped.
        var key = EthKey.FromHex("4646464646464646464646464646464646464646464646464646464646464646");
        var hash = Keccak.Hash(Encoding.UTF8.GetBytes("high s"));
        var sig = key.Sign(hash);
        var twin = new Signature(sig.R, Secp256k1.N - sig.S, 1 - sig.RecoveryId);
        Assert.True(twin.S > HalfN);
        Assert.Equal(key.PublicKey, Secp256k1.RecoverPublicKey(hash, twin));
    }

    [Fact]
    public void keys_outside_one_to_n_minus_one_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => EthKey.FromBytes(new byte[32]));
        Assert.Throws<ArgumentException>(() => EthKey.FromHex(Convert.ToHexString(Secp256k1.N.ToByteArray(isUnsigned: true, isBigEndian: true))));
        Assert.Throws<ArgumentException>(() => EthKey.FromBytes(new byte[31]));
        Assert.Throws<FormatException>(() => EthKey.FromHex("0x12"));
        var nMinusOne = EthKey.FromHex(Convert.ToHexString((Secp256k1.N - 1).ToByteArray(isUnsigned: true, isBigEndian: true)));
        // (n - 1)·G = -G: the generator's x with the other y.
        Assert.Equal("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", Hex.Encode(nMinusOne.PublicKey.AsSpan(0, 32), prefix: false));
    }

    [Fact]
    public void eip155_example_signature_recovers_the_sender()
    {
        // EIP-155 text, "Example": signing hash and (r, s, v = 37 → recovery id 0); sender as given by reth's tests.
        var hash = Hex.Decode("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
        var sig = new Signature(
            BigInteger.Parse("18515461264373351373200002665853028612451056578545711640558177340181847433846", System.Globalization.CultureInfo.InvariantCulture),
            BigInteger.Parse("46948507304638947509940763649030358759909902576025900602547168820602576006531", System.Globalization.CultureInfo.InvariantCulture),
            0);
        Assert.Equal("0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f", EthAddress.FromPublicKey(Secp256k1.RecoverPublicKey(hash, sig)));
        Assert.Equal(sig, EthKey.FromHex("4646464646464646464646464646464646464646464646464646464646464646").Sign(hash));
    }

    [Fact]
    public void out_of_range_signatures_do_not_recover()
    {
        var hash = new byte[32];
        Assert.Throws<ArgumentException>(() => Secp256k1.RecoverPublicKey(hash, new Signature(BigInteger.Zero, BigInteger.One, 0)));
        Assert.Throws<ArgumentException>(() => Secp256k1.RecoverPublicKey(hash, new Signature(BigInteger.One, Secp256k1.N, 0)));
        Assert.Throws<ArgumentException>(() => Secp256k1.RecoverPublicKey(hash[..31], new Signature(BigInteger.One, BigInteger.One, 0)));
    }

    [Fact]
    public void to_bytes65_writes_v_as_id_or_27_plus_id()
    {
        var sig = new Signature(BigInteger.One, new BigInteger(2), 1);
        var plain = sig.ToBytes65();
        Assert.Equal(65, plain.Length);
        Assert.Equal(1, plain[31]);
        Assert.Equal(2, plain[63]);
        Assert.Equal(1, plain[64]);
        Assert.Equal(28, sig.ToBytes65(vAs27: true)[64]);
        Assert.Equal(sig, Signature.TryFromBytes65(sig.ToBytes65(vAs27: true)));
    }
}
