using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OpenMint.Storage.Sqlite;

/// <summary>JSON array texts that SQLite statements unpack with json_each (intake's id lists and rows, the pipeline's batch lists).</summary>
internal static class SqliteJson
{
    /// <summary>Relaxed escaping: the text only travels to SQLite's JSON functions, never into HTML.</summary>
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A JSON array whose elements <paramref name="write"/> writes.</summary>
    public static string Array(int sizeHint, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(sizeHint);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartArray();
            write(w);
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
