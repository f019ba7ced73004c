using System.Text;
using System.Text.Json;

namespace OpenMint.Core.Minting;

/// <summary>Compact metadata JSON, one buffer and writer per thread, reused for every asset of every request parsed there.</summary>
internal sealed class MetadataWriter
{
    /// <summary>A buffer grown past this by a large metadata object is not kept for the thread's next request.</summary>
    private const int KeepCapacity = 64 * 1024;

    [ThreadStatic]
    private static MetadataWriter? _forThread;

    private System.Buffers.ArrayBufferWriter<byte> _buffer = new(256);
    private Utf8JsonWriter? _writer;

    /// <summary>This thread's writer: parsing is synchronous, so one request at a time uses it.</summary>
    public static MetadataWriter ForThisThread()
    {
        var writer = _forThread ??= new MetadataWriter();
        if (writer._buffer.Capacity > KeepCapacity)
        {
            writer._buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        }
        return writer;
    }

    public bool TryWrite(JsonElement element, int maxBytes, out string? json)
    {
        _buffer.ResetWrittenCount();
        if (_writer is null)
        {
            _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }
        else
        {
            _writer.Reset(_buffer);
        }
        element.WriteTo(_writer);
        _writer.Flush();
        if (_buffer.WrittenCount > maxBytes)
        {
            json = null;
            return false;
        }
        json = Encoding.UTF8.GetString(_buffer.WrittenSpan);
        return true;
    }
}
