using System.Globalization;
using System.Text;

namespace OpenMint.Api.Tests.Hardening;

/// <summary>Seeded generator of hostile request parts: near-valid JSON bodies with bad values, broken JSON, odd paths and queries.</summary>
internal sealed class FuzzInput(Random random)
{
    private static readonly string[] Hostile =
    [
        "", " ", "\\ud800", "\\udc00x", "a\\u0000b", "\\u0007", "\\u00a0", "\u3000", "0", "-1", "1e3", "01", "0x10",
        "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        "115792089237316195423570985008687907853269984665640564039457584007913129639936",
        "340282366920938463463374607431768211456", "0x0000000000000000000000000000000000000000",
        "0xABCDEF0123456789abcdef0123456789abcdef01", "0xabcdef0123456789abcdef0123456789abcdef0", "%2F..%2F", "../../etc/passwd",
        "' OR 1=1 --", "\\\"", "\\\\", "😀", "\\ud83d\\ude00", "null", "true", "{}", "[]",
    ];

    private static readonly string[] MintFields = ["reference_id", "owner_address", "token_id", "amount", "metadata"];
    private static readonly string[] MetadataFields = ["name", "description", "image", "external_url", "animation_url", "youtube_url", "attributes", "custom"];

    public T Pick<T>(params T[] items) => items[random.Next(items.Length)];

    public byte[] MintBody()
    {
        var kind = random.Next(10);
        if (kind == 0)
        {
            return RandomBytes();
        }
        var sb = new StringBuilder("{\"assets\":");
        if (kind == 1)
        {
            sb.Append(Value(3));
        }
        else
        {
            sb.Append('[');
            var count = random.Next(10) == 0 ? random.Next(95, 110) : random.Next(0, 4);
            for (var i = 0; i < count; i++)
            {
                sb.Append(i > 0 ? "," : "").Append(Asset());
            }
            sb.Append(']');
        }
        if (random.Next(8) == 0)
        {
            sb.Append(',').Append(Str()).Append(':').Append(Value(1));
        }
        sb.Append('}');
        return Mangle(sb.ToString());
    }

    public byte[] RefreshBody(string collection)
    {
        if (random.Next(10) == 0)
        {
            return RandomBytes();
        }
        var address = random.Next(3) > 0 ? $"\"{collection}\"" : Str();
        var ids = random.Next(4) == 0 ? Value(2) : "[" + string.Join(",", Enumerable.Range(0, random.Next(0, 5)).Select(_ => random.Next(3) switch
        {
            0 => Value(1),
            1 => Str(),
            _ => $"\"{random.Next(0, 100)}\"",
        })) + "]";
        var extra = random.Next(4) == 0 ? $",{Str()}:{Value(2)}" : "";
        return Mangle($"{{\"collection_address\":{address},\"token_ids\":{ids}{extra}}}");
    }

    public string Query(params string[] names) =>
        string.Join("&", names.Where(_ => random.Next(3) > 0).Select(n => n + "=" + Uri.EscapeDataString(Raw())));

    /// <summary>A path segment: hostile text percent-encoded, or raw digits and odd bytes.</summary>
    public string PathSegment() => random.Next(4) switch
    {
        0 => new string('9', random.Next(1, 200)),
        1 => "%" + random.Next(0, 256).ToString("X2", CultureInfo.InvariantCulture) + Uri.EscapeDataString(Raw()),
        _ => Uri.EscapeDataString(Raw()) is { Length: > 0 } s ? s : "x",
    };

    private string Asset()
    {
        if (random.Next(2) == 0)
        {
            return NearValidAsset();
        }
        var fields = MintFields.Where(_ => random.Next(5) > 0).Select(f => f switch
        {
            "metadata" => $"\"metadata\":{Metadata()}",
            "reference_id" when random.Next(2) == 0 => $"\"reference_id\":\"r{random.NextInt64()}\"",
            "owner_address" when random.Next(2) == 0 => "\"owner_address\":\"0xabcdef0123456789abcdef0123456789abcdef01\"",
            "token_id" or "amount" when random.Next(3) == 0 => $"\"{f}\":\"{random.NextInt64(0, long.MaxValue)}\"",
            _ => $"\"{f}\":{(random.Next(4) == 0 ? Value(2) : Str())}",
        });
        return "{" + string.Join(",", fields) + "}";
    }

    /// <summary>A valid asset with at most one field replaced by something hostile.</summary>
    private string NearValidAsset()
    {
        var values = new Dictionary<string, string>
        {
            ["reference_id"] = $"\"r{random.NextInt64()}\"",
            ["owner_address"] = "\"0xabcdef0123456789abcdef0123456789abcdef01\"",
            ["token_id"] = $"\"{random.NextInt64(1, long.MaxValue)}\"",
            ["amount"] = "\"1\"",
            ["metadata"] = "{\"name\":\"n\",\"attributes\":[{\"trait_type\":\"t\",\"value\":1}]}",
        };
        if (random.Next(3) > 0)
        {
            var field = Pick(MintFields);
            values[field] = field == "metadata" ? Metadata() : random.Next(4) == 0 ? Value(2) : Str();
        }
        var extra = random.Next(6) == 0 ? $",{Str()}:{Value(1)}" : "";
        return "{" + string.Join(",", values.Select(v => $"\"{v.Key}\":{v.Value}")) + extra + "}";
    }

    private string Metadata()
    {
        if (random.Next(5) == 0)
        {
            return Value(4);
        }
        var fields = MetadataFields.Where(_ => random.Next(3) == 0).Select(f => f == "attributes"
            ? $"\"attributes\":[{{\"trait_type\":{Str()},\"value\":{Value(1)},\"display_type\":{Str()}}}]"
            : $"{(random.Next(6) == 0 ? Str() : "\"" + f + "\"")}:{(random.Next(3) == 0 ? Value(3) : Str())}");
        return "{" + string.Join(",", fields) + "}";
    }

    /// <summary>Any JSON value, nested up to <paramref name="depth"/>.</summary>
    private string Value(int depth) => random.Next(depth <= 0 ? 5 : 7) switch
    {
        0 => Str(),
        1 => Pick("null", "true", "false"),
        2 => Pick("0", "-1", "1.5", "1e400", "-0", "12345678901234567890123456789012345678901234567890"),
        3 => $"\"{new string('x', random.Next(0, 20_000))}\"",
        4 => Str(),
        5 => "[" + string.Join(",", Enumerable.Range(0, random.Next(0, 4)).Select(_ => Value(depth - 1))) + "]",
        _ => "{" + string.Join(",", Enumerable.Range(0, random.Next(0, 4)).Select(_ => $"{Str()}:{Value(depth - 1)}")) + "}",
    };

    private string Str() => "\"" + Raw() + "\"";

    /// <summary>Hostile JSON string content (already escaped where it needs to be).</summary>
    private string Raw()
    {
        var a = Pick(Hostile);
        return random.Next(3) == 0 ? a + Pick(Hostile) : a;
    }

    /// <summary>Sometimes breaks the JSON: truncation, a flipped byte, deep nesting, invalid UTF-8.</summary>
    private byte[] Mangle(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        switch (random.Next(12))
        {
            case 0:
                return bytes[..random.Next(bytes.Length + 1)];
            case 1:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            case 2:
                var depth = random.Next(30, 5000);
                return Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth));
            case 3:
                return [.. bytes[..(bytes.Length / 2)], 0xC3, 0x28, 0xED, 0xA0, 0x80, .. bytes[(bytes.Length / 2)..]];
            default:
                return bytes;
        }
    }

    private byte[] RandomBytes()
    {
        var bytes = new byte[random.Next(0, 512)];
        random.NextBytes(bytes);
        return bytes;
    }
}
