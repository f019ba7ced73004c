using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace OpenMint.Core;

/// <summary>
/// The one codec of the opaque page cursors every list endpoint hands out: base64url (no padding) of
/// <c>kind:position</c>, where the kind is one letter naming what the position counts (a row id and a
/// direction, a refresh seq, an error row id) so a cursor from one list is refused by another.
/// </summary>
public static class PageCursor
{
    /// <summary>Longer input is never a cursor this codec wrote ("k:" and 19 digits is 28 characters).</summary>
    private const int MaxLength = 64;

    /// <summary>Mint request list: the page of rows newer than the position (<c>p</c>) or older (<c>n</c>).</summary>
    public const char MintNewer = 'p', MintOlder = 'n';

    public const string MintRequestKinds = "pn";

    /// <summary>Refresh list (position: a refresh seq) and a refresh's errors page (position: an error row id).</summary>
    public const char Refreshes = 'r', RefreshErrors = 'e';

    public static string Encode(char kind, long position)
    {
        Span<byte> text = stackalloc byte[24];
        text[0] = (byte)kind;
        text[1] = (byte)':';
        position.TryFormat(text[2..], out var digits, default, CultureInfo.InvariantCulture);
        return Base64Url.EncodeToString(text[..(2 + digits)]);
    }

    /// <summary>False (a value, not an exception) for anything this codec did not write with one of <paramref name="kinds"/>.</summary>
    public static bool TryDecode(string? cursor, string kinds, out char kind, out long position)
    {
        kind = default;
        position = 0;
        if (string.IsNullOrEmpty(cursor) || cursor.Length > MaxLength)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[MaxLength];
        if (Base64Url.DecodeFromChars(cursor, bytes, out _, out var written) != OperationStatus.Done || written < 3 || bytes[1] != (byte)':'
            || kinds.IndexOf((char)bytes[0], StringComparison.Ordinal) < 0)
        {
            return false;
        }
        Span<char> digits = stackalloc char[written - 2];
        Encoding.ASCII.GetChars(bytes[2..written], digits);
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out position))
        {
            return false;
        }
        kind = (char)bytes[0];
        return true;
    }
}
