using System.Collections;
using System.Numerics;
using System.Text.Json;

namespace OpenMint.Chain;

/// <summary>The JSON-RPC 2.0 wire format: request bodies out, response objects in (results and error objects).</summary>
internal static class JsonRpcWire
{
    internal static bool LooksLikeJsonRpc(JsonElement root) =>
        root.ValueKind == JsonValueKind.Array
        || (root.ValueKind == JsonValueKind.Object && (root.TryGetProperty("error", out _) || root.TryGetProperty("result", out _)));

    /// <summary>
    /// Matches a batch's answers to its calls by id (nodes may reorder them), in call order; the calls' ids run from
    /// <paramref name="firstId"/>. A node that refuses the whole batch answers with one error object, thrown here.
    /// </summary>
    internal static JsonRpcResult[] ParseBatchResponse(JsonElement root, long firstId, IReadOnlyList<string> methods, string label)
    {
        if (root.ValueKind == JsonValueKind.Object)
        {
            ParseResponse(root, label).GetResultOrThrow();
            throw new RpcTransportException($"{label}: a single result answered a batch.");
        }
        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new RpcTransportException($"{label}: the answer is not a JSON-RPC batch response.");
        }
        var byId = new Dictionary<long, JsonElement>();
        foreach (var answer in root.EnumerateArray())
        {
            if (answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("id", out var idElement)
                && idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt64(out var answerId))
            {
                byId[answerId] = answer;
            }
        }
        var results = new JsonRpcResult[methods.Count];
        for (var i = 0; i < methods.Count; i++)
        {
            if (!byId.TryGetValue(firstId + i, out var answer))
            {
                throw new RpcTransportException($"{label}: no answer for {methods[i]} (id {firstId + i}).");
            }
            results[i] = ParseResponse(answer, methods[i]);
        }
        return results;
    }

    internal static JsonRpcResult ParseResponse(JsonElement answer, string method)
    {
        if (answer.ValueKind != JsonValueKind.Object)
        {
            throw new RpcTransportException($"{method}: the answer is not a JSON-RPC response object.");
        }
        if (answer.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
        {
            return new JsonRpcResult(null, ToException(error));
        }
        if (answer.TryGetProperty("result", out var result))
        {
            return new JsonRpcResult(result.Clone(), null);
        }
        throw new RpcTransportException($"{method}: the answer has neither result nor error.");
    }

    private static JsonRpcException ToException(JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object)
        {
            return new JsonRpcException(-32603, error.ToString(), null);
        }
        var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var v) ? v : -32603;
        var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
        var data = error.TryGetProperty("data", out var d) && d.ValueKind != JsonValueKind.Null ? d.GetRawText() : null;
        return new JsonRpcException(code, message, data);
    }

    internal static byte[] WriteJson(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            write(writer);
        }
        return stream.ToArray();
    }

    internal static void WriteRequest(Utf8JsonWriter writer, long id, string method, object?[] parameters)
    {
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        writer.WriteNumber("id", id);
        writer.WriteString("method", method);
        writer.WritePropertyName("params");
        writer.WriteStartArray();
        foreach (var p in parameters)
        {
            WriteValue(writer, p);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>BigInteger → hex quantity and byte[] → 0x hex data, as Ethereum JSON-RPC expects; the rest as JSON.</summary>
    internal static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case BigInteger big:
                writer.WriteStringValue(HexQuantity.Encode(big));
                break;
            case byte[] bytes:
                writer.WriteStringValue(Hex.Encode(bytes));
                break;
            case JsonElement element:
                element.WriteTo(writer);
                break;
            case IEnumerable<KeyValuePair<string, object?>> map:
                writer.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, item);
                }
                writer.WriteEndObject();
                break;
            case IEnumerable list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    WriteValue(writer, item);
                }
                writer.WriteEndArray();
                break;
            default:
                JsonSerializer.Serialize(writer, value, value.GetType());
                break;
        }
    }
}
