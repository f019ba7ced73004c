using System.Text;
using System.Text.Json;

namespace OpenMint.Core.Minting;

/// <summary>Compact metadata JSON, one buffer and writer reused for every asset of a request.</summary>
internal sealed class MetadataWriter
{
    private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new(256);
    private Utf8JsonWriter? _writer;

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
