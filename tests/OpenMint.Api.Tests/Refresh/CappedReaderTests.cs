using OpenMint.Core;

namespace OpenMint.Api.Tests.Refresh;

public sealed class CappedReaderTests
{
    [Theory]
    [InlineData(0, 10, 0)]
    [InlineData(10, 10, 4)]
    [InlineData(100_000, 100_000, 16)]
    public async Task a_body_up_to_the_cap_is_read_whole_whatever_the_size_hint(int size, int cap, long hint)
    {
        var data = Enumerable.Range(0, size).Select(i => (byte)i).ToArray();
        using var read = await CappedReader.ReadAsync(new MemoryStream(data), cap, hint, CancellationToken.None);
        Assert.True(read.Complete);
        Assert.Equal(data, read.Memory.ToArray());
    }

    [Fact]
    public async Task a_body_over_the_cap_stops_one_byte_past_it()
    {
        using var read = await CappedReader.ReadAsync(new MemoryStream(new byte[50_000]), 20_000, 50_000, CancellationToken.None);
        Assert.False(read.Complete);
        Assert.Equal(20_001, read.Length);
    }

    [Fact]
    public void quoted_values_are_shortened_with_a_marker_and_stored_ones_cut_without()
    {
        Assert.Equal("abc", Texts.Shorten("abc"));
        Assert.Equal(new string('x', 80) + "...", Texts.Shorten(new string('x', 81)));
        Assert.Equal("abcd", Texts.Cut("abcdef", 4));
        Assert.Equal("ab", Texts.Cut("ab", 4));
    }
}
