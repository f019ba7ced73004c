using Org.BouncyCastle.Crypto.Digests;

namespace OpenMint.Chain;

/// <summary>Keccak-256 as Ethereum uses it (the original padding, not FIPS-202 SHA3-256).</summary>
public static class Keccak
{
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var digest = new KeccakDigest(256);
        // Portable.BouncyCastle 1.8 has no span overloads.
        var input = data.ToArray();
        digest.BlockUpdate(input, 0, input.Length);
        var output = new byte[32];
        digest.DoFinal(output, 0);
        return output;
    }

    internal static byte[] Hash(string utf8) => Hash(System.Text.Encoding.UTF8.GetBytes(utf8));
}
