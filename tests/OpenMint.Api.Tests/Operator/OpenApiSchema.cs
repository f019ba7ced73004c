using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpenMint.Api.Tests.Operator;

/// <summary>
/// A small JSON-schema check over an OpenAPI document's schemas: <c>$ref</c> into components, <c>type</c> (one or a
/// list), <c>properties</c> (strict: a live property the schema does not declare is a drift), <c>required</c>,
/// <c>items</c>, <c>enum</c>, <c>oneOf</c>/<c>anyOf</c>/<c>allOf</c>. Returns the problems found, empty when it matches.
/// </summary>
internal static class OpenApiSchema
{
    public static List<string> Check(JsonNode document, JsonNode schema, JsonElement value)
    {
        var problems = new List<string>();
        Check(document, schema, value, "$", problems);
        return problems;
    }

    private static void Check(JsonNode document, JsonNode schema, JsonElement value, string at, List<string> problems)
    {
        if (schema["$ref"] is { } reference)
        {
            var path = ((string)reference!).TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries);
            var target = path.Aggregate((JsonNode?)document, (node, part) => node?[part]);
            if (target is null)
            {
                problems.Add($"{at}: unresolved $ref {reference}");
                return;
            }
            Check(document, target, value, at, problems);
            return;
        }
        foreach (var combinator in new[] { "oneOf", "anyOf" })
        {
            if (schema[combinator] is JsonArray options && !options.Any(o => Check(document, o!, value).Count == 0))
            {
                problems.Add($"{at}: matches none of {combinator}");
            }
        }
        if (schema["allOf"] is JsonArray all)
        {
            foreach (var part in all)
            {
                Check(document, part!, value, at, problems);
            }
        }
        var types = schema["type"] switch
        {
            JsonArray list => list.Select(t => (string)t!).ToList(),
            JsonValue one => [(string)one!],
            _ => null,
        };
        if (types is not null && !types.Any(t => Is(t, value)))
        {
            problems.Add($"{at}: {value.ValueKind} is not {string.Join("|", types)}");
            return;
        }
        if (schema["enum"] is JsonArray values && !values.Any(v => JsonNode.DeepEquals(v, JsonNode.Parse(value.GetRawText()))))
        {
            problems.Add($"{at}: {value.GetRawText()} is not one of {values.ToJsonString()}");
        }
        if (value.ValueKind == JsonValueKind.Object && schema["properties"] is JsonObject properties)
        {
            foreach (var property in value.EnumerateObject())
            {
                if (properties[property.Name] is { } propertySchema)
                {
                    Check(document, propertySchema, property.Value, $"{at}.{property.Name}", problems);
                }
                else
                {
                    problems.Add($"{at}: property {property.Name} is not in the schema");
                }
            }
            foreach (var required in schema["required"]?.AsArray() ?? [])
            {
                if (!value.TryGetProperty((string)required!, out _))
                {
                    problems.Add($"{at}: required property {required} is missing");
                }
            }
        }
        if (value.ValueKind == JsonValueKind.Array && schema["items"] is { } items)
        {
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                Check(document, items, item, $"{at}[{i++}]", problems);
            }
        }
    }

    private static bool Is(string type, JsonElement value) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => false,
    };
}
