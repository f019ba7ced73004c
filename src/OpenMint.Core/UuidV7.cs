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
        Span<Guid> one = stackalloc Guid[1];
        Fill(one, time);
        return one[0];
    }

    /// <summary>
    /// Fills <paramref name="ids"/> with increasing ids, each larger than any handed out before: one lock and one
    /// random-number call for the whole span (intake takes one id per accepted asset).
    /// </summary>
    public static void Fill(Span<Guid> ids, TimeProvider? time = null)
    {
        if (ids.IsEmpty)
        {
            return;
        }
        Span<byte> random = ids.Length <= 128 ? stackalloc byte[ids.Length * 8] : new byte[ids.Length * 8];
        RandomNumberGenerator.Fill(random);
        Span<byte> b = stackalloc byte[16];
        lock (Gate)
        {
            var now = (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds();
            for (var i = 0; i < ids.Length; i++)
            {
                long ms;
                if (now <= _lastMs)
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
                    ms = _lastMs = now;
                    _counter = 0;
                }
                var counter = _counter;
                b[0] = (byte)(ms >> 40);
                b[1] = (byte)(ms >> 32);
                b[2] = (byte)(ms >> 24);
                b[3] = (byte)(ms >> 16);
                b[4] = (byte)(ms >> 8);
                b[5] = (byte)ms;
                b[6] = (byte)(0x70 | (counter >> 8));
                b[7] = (byte)counter;
                random.Slice(i * 8, 8).CopyTo(b[8..]);
                b[8] = (byte)(0x80 | (b[8] & 0x3F));
                ids[i] = new Guid(b, bigEndian: true);
            }
        }
    }
}
