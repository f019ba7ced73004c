using System.Globalization;
using OpenMint.Core;

namespace OpenMint.Core.Tests;

/// <summary><see cref="Time.FromWire"/> reads its own format by hand: it must agree with the general parser everywhere.</summary>
public sealed class TimeTests
{
    [Fact]
    public void the_stored_format_reads_back_to_the_same_microsecond_as_the_general_parser_gives()
    {
        var random = new Random(7);
        var instants = new List<DateTimeOffset>
        {
            new(1, 1, 1, 0, 0, 0, TimeSpan.Zero),
            new(2024, 2, 29, 23, 59, 59, TimeSpan.Zero),
            new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_990),
            new DateTimeOffset(2026, 12, 3, 11, 30, 0, TimeSpan.FromHours(5)).AddTicks(1_234_560),
        };
        for (var i = 0; i < 2_000; i++)
        {
            instants.Add(new DateTimeOffset(random.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks) / 10 * 10, TimeSpan.Zero));
        }
        foreach (var instant in instants)
        {
            var text = Time.ToWire(instant);
            var general = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            var read = Time.FromWire(text);
            Assert.Equal(general, read);
            Assert.Equal(TimeSpan.Zero, read.Offset);
            Assert.Equal(instant.UtcTicks, read.UtcTicks);
        }
    }

    [Theory]
    [InlineData("2026-12-03T10:00:00Z", "2026-12-03T10:00:00.000000Z")]
    [InlineData("2026-12-03T10:00:00.5Z", "2026-12-03T10:00:00.500000Z")]
    [InlineData("2026-12-03T12:00:00.000000+02:00", "2026-12-03T10:00:00.000000Z")]
    [InlineData("2026-12-03 10:00:00", "2026-12-03T10:00:00.000000Z")]
    public void other_shapes_still_go_through_the_general_parser(string text, string expected) =>
        Assert.Equal(expected, Time.ToWire(Time.FromWire(text)));

    [Theory]
    [InlineData("2026-02-30T10:00:00.000000Z")]
    [InlineData("2026-13-03T10:00:00.000000Z")]
    [InlineData("2026-12-03T24:00:00.000000Z")]
    [InlineData("2026-12-03T10:60:00.000000Z")]
    [InlineData("2026-12-0xT10:00:00.000000Z")]
    public void an_impossible_instant_in_the_stored_shape_is_refused_as_before(string text) =>
        Assert.Throws<FormatException>(() => Time.FromWire(text));
}
