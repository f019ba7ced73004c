using OpenMint.Core;

namespace OpenMint.Api.Tests.Minting;

public sealed class PageCursorTests
{
    [Theory]
    [InlineData('p', 0L)]
    [InlineData('n', 123456789L)]
    [InlineData('r', long.MaxValue)]
    public void a_cursor_decodes_to_the_kind_and_position_it_was_written_with(char kind, long position)
    {
        var cursor = PageCursor.Encode(kind, position);
        Assert.DoesNotContain('=', cursor);
        Assert.True(PageCursor.TryDecode(cursor, "pnr", out var decodedKind, out var decodedPosition));
        Assert.Equal(kind, decodedKind);
        Assert.Equal(position, decodedPosition);
    }

    [Fact]
    public void the_wire_format_is_unpadded_base64url_of_kind_colon_position()
    {
        // Cursors handed out before the codec moved to Core must keep decoding: "n:42" and "p:7".
        Assert.Equal("bjo0Mg", PageCursor.Encode('n', 42));
        Assert.True(PageCursor.TryDecode("cDo3", PageCursor.MintRequestKinds, out var kind, out var id));
        Assert.Equal(('p', 7L), (kind, id));
    }

    [Theory]
    [InlineData("!!garbage")]
    [InlineData("")]
    [InlineData("bjo")]
    [InlineData("bjotMQ")]
    [InlineData("eDo0Mg")]
    public void anything_else_is_refused_as_a_value(string cursor)
    {
        Assert.False(PageCursor.TryDecode(cursor, PageCursor.MintRequestKinds, out _, out _));
        Assert.False(PageCursor.TryDecode(new string('A', 65), PageCursor.MintRequestKinds, out _, out _));
    }

    [Fact]
    public void a_cursor_of_another_list_is_refused()
    {
        Assert.False(PageCursor.TryDecode(PageCursor.Encode(PageCursor.RefreshErrors, 5), PageCursor.Refreshes.ToString(), out _, out _));
    }
}
