using System.Security.Cryptography;

namespace OpenMint.Core;

/// <summary>
/// RFC 9562 version 7 UUIDs that strictly increase within this process (Guid.CreateVersion7
/// is random within a millisecond): the 12-bit rand_a field carries a counter.
/// </summary>
public static class UuidV7
{
    private static readonly Lock Gate = new();
    private static long _lastMs;
    private static int _counter;

    public static Guid New(TimeProvider? time = null)
    {
        long ms;
        int counter;
        lock (Gate)
        {
            ms = (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds();
            if (ms <= _lastMs)
            {
                ms = _lastMs;
                if (++_counter > 0xFFF)
                {
                    ms = ++_lastMs;
                    _counter = 0;
                }
            }
            else
            {
                _lastMs = ms;
                _counter = 0;
            }
            counter = _counter;
        }
        Span<byte> b = stackalloc byte[16];
        RandomNumberGenerator.Fill(b[8..]);
        b[0] = (byte)(ms >> 40);
        b[1] = (byte)(ms >> 32);
        b[2] = (byte)(ms >> 24);
        b[3] = (byte)(ms >> 16);
        b[4] = (byte)(ms >> 8);
        b[5] = (byte)ms;
        b[6] = (byte)(0x70 | (counter >> 8));
        b[7] = (byte)counter;
        b[8] = (byte)(0x80 | (b[8] & 0x3F));
        return new Guid(b, bigEndian: true);
    }
}
