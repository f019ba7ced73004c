using System.Buffers;

namespace OpenMint.Core;

/// <summary>
/// Bytes read into a buffer rented from <see cref="ArrayPool{T}.Shared"/>; disposing returns it.
/// <see cref="Complete"/> is false when the stream had more than the cap (then <see cref="Length"/> is cap + 1).
/// </summary>
public readonly record struct PooledBytes(byte[] Buffer, int Length, bool Complete) : IDisposable
{
    public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, Length);

    public void Dispose()
    {
        if (Buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
        }
    }
}

/// <summary>The one capped body reader: request bodies of the API and metadata responses of the refresh fetcher.</summary>
public static class CappedReader
{
    /// <summary>
    /// Reads <paramref name="stream"/> to its end or until more than <paramref name="max"/> bytes arrived, into one
    /// pooled buffer sized from <paramref name="sizeHint"/> (a Content-Length, say) and doubled as needed.
    /// </summary>
    public static async ValueTask<PooledBytes> ReadAsync(Stream stream, int max, long sizeHint, CancellationToken ct)
    {
        var limit = max + 1;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(sizeHint, 0, max) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                var room = Math.Min(buffer.Length, limit);
                if (length == room)
                {
                    if (length > max)
                    {
                        return new PooledBytes(buffer, length, false);
                    }
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                    room = Math.Min(buffer.Length, limit);
                }
                var read = await stream.ReadAsync(buffer.AsMemory(length, room - length), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    return new PooledBytes(buffer, length, true);
                }
                length += read;
                if (length > max)
                {
                    return new PooledBytes(buffer, length, false);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
