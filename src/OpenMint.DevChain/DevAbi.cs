using System.Numerics;
using System.Text;
using OpenMint.Chain;

namespace OpenMint.DevChain;

/// <summary>
/// The few ABI shapes provisioning needs (address, uintN, bytes32, string, bytes at the top level), so that the
/// dev chain does not wait on the general encoder; OpenMint.Chain.Abi is the one the service uses.
/// </summary>
internal static class DevAbi
{
    public static byte[] Encode(IReadOnlyList<string> types, IReadOnlyList<object> values)
    {
        var head = new List<byte[]>();
        var tail = new List<byte[]>();
        var tailOffset = 32 * types.Count;
        for (var i = 0; i < types.Count; i++)
        {
            switch (types[i], values[i])
            {
                case ("address", string a):
                    head.Add(Word(new BigInteger(Hex.Decode(a), isUnsigned: true, isBigEndian: true)));
                    break;
                case (var t, BigInteger n) when t.StartsWith("uint", StringComparison.Ordinal):
                    head.Add(Word(n));
                    break;
                case ("bytes32", byte[] b) when b.Length == 32:
                    head.Add(b);
                    break;
                case ("string" or "bytes", var v):
                    var bytes = v is string s ? Encoding.UTF8.GetBytes(s) : (byte[])v;
                    head.Add(Word(tailOffset));
                    var padded = new byte[32 + ((bytes.Length + 31) / 32 * 32)];
                    Word(bytes.Length).CopyTo(padded, 0);
                    bytes.CopyTo(padded, 32);
                    tail.Add(padded);
                    tailOffset += padded.Length;
                    break;
                default:
                    throw new NotSupportedException($"DevAbi cannot encode {types[i]} from {values[i]?.GetType().Name}");
            }
        }
        return [.. head.Concat(tail).SelectMany(x => x)];
    }

    public static byte[] Call(byte[] selector, IReadOnlyList<string> types, IReadOnlyList<object> values) =>
        [.. selector, .. Encode(types, values)];

    private static byte[] Word(BigInteger value)
    {
        var word = new byte[32];
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes.CopyTo(word, 32 - bytes.Length);
        return word;
    }
}
