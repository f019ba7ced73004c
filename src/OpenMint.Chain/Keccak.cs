using Org.BouncyCastle.Crypto.Digests;

namespace OpenMint.Chain;

/// <summary>Keccak-256 as Ethereum uses it (the original padding, not FIPS-202 SHA3-256), by BouncyCastle.</summary>
public static class Keccak
{
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var digest = new KeccakDigest(256);
        digest.BlockUpdate(data);
        var output = new byte[32];
        digest.DoFinal(output);
        return output;
    }

    internal static byte[] Hash(string utf8) => Hash(System.Text.Encoding.UTF8.GetBytes(utf8));
}
