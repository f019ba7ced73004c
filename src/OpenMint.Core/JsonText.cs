using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OpenMint.Core;

/// <summary>
/// Reading strings out of request JSON without the reader's exceptions: a string with a lone UTF-16 surrogate
/// escape (<c>"\ud800"</c>) is valid JSON text but cannot become a .NET string, and
/// <see cref="JsonElement.GetString"/> throws <see cref="InvalidOperationException"/> on it. Callers turn a
/// false here into a 400 that names the field.
/// </summary>
public static class JsonText
{
    /// <summary>The element's string value; false when it holds a lone surrogate escape.</summary>
    public static bool TryGetString(JsonElement element, out string? value)
    {
        try
        {
            value = element.GetString();
            return true;
        }
        catch (InvalidOperationException) when (element.ValueKind == JsonValueKind.String)
        {
            value = null;
            return false;
        }
    }

    /// <summary>
    /// How an element reads in an error message: a string's value, any other element's JSON text, or null when
    /// it holds text that cannot be read (a lone surrogate escape, or invalid UTF-8 the reader let through).
    /// </summary>
    public static string? Describe(JsonElement element)
    {
        try
        {
            return element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// The path (relative to <paramref name="element"/>, e.g. <c>/attributes/0/value</c>) of the first string
    /// value or property name that is not valid UTF-16, or null when every one is.
    /// </summary>
    public static string? FindInvalidString(JsonElement element)
    {
        var path = new StringBuilder();
        return Find(element, path) ? path.ToString() : null;
    }

    private static bool Find(JsonElement element, StringBuilder path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return !TryGetString(element, out _);
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    var mark = path.Length;
                    path.Append('/').Append(i.ToString(CultureInfo.InvariantCulture));
                    if (Find(item, path))
                    {
                        return true;
                    }
                    path.Length = mark;
                    i++;
                }
                return false;
            case JsonValueKind.Object:
                var n = 0;
                foreach (var property in element.EnumerateObject())
                {
                    var mark = path.Length;
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        path.Append("/(property name #").Append(n.ToString(CultureInfo.InvariantCulture)).Append(')');
                        return true;
                    }
                    path.Append('/').Append(name);
                    if (Find(property.Value, path))
                    {
                        return true;
                    }
                    path.Length = mark;
                    n++;
                }
                return false;
            default:
                return false;
        }
    }

    /// <summary>True when <paramref name="value"/> holds a control character (C0, DEL or C1), e.g. NUL.</summary>
    public static bool HasControlCharacter(string value)
    {
        foreach (var ch in value)
        {
            if (char.IsControl(ch))
            {
                return true;
            }
        }
        return false;
    }
}
