using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using OpenMint.Api.Endpoints;
using OpenMint.Core.Minting;

namespace OpenMint.Api.Tests.Minting;

/// <summary>The 202 is written from UTF-8 pieces, not by a JSON writer: it must stay byte for byte what the writer gave.</summary>
public sealed class MintAcceptedTests
{
    [Theory]
    [InlineData(100_000, 99_998, 59.994)]
    [InlineData(5, 0, 0)]
    [InlineData(long.MaxValue, long.MaxValue - 1, 0.005)]
    public async Task the_202_body_is_the_json_writers_bytes_with_its_length_and_type(long limit, long used, double secondsLeft)
    {
        var now = new DateTimeOffset(2026, 12, 3, 8, 21, 30, TimeSpan.Zero);
        var values = MintingApi.LimitFields(new MintQuota(limit, used, now.AddMinutes(1).AddSeconds(-30)), now.AddSeconds(30 - secondsLeft));
        var http = new DefaultHttpContext();
        var body = new MemoryStream();
        http.Response.Body = body;

        await new MintAccepted(values).ExecuteAsync(http);

        var expected = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(expected))
        {
            w.WriteStartObject();
            w.WriteString("imx_mint_requests_limit", values.Limit);
            w.WriteString("imx_mint_requests_limit_reset", values.Reset);
            w.WriteString("imx_remaining_mint_requests", values.Remaining);
            w.WriteString("imx_mint_requests_retry_after", values.RetryAfter);
            w.WriteEndObject();
        }
        Assert.Equal(StatusCodes.Status202Accepted, http.Response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", http.Response.ContentType);
        Assert.Equal(expected.WrittenCount, http.Response.ContentLength);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected.WrittenSpan), System.Text.Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal("2026-12-03T08:22:00Z", values.Reset);
    }

    [Fact]
    public void the_reset_text_follows_the_window_end()
    {
        var now = new DateTimeOffset(2026, 12, 3, 8, 21, 30, TimeSpan.Zero);
        Assert.Equal("2026-12-03T08:22:00Z", MintingApi.LimitFields(new MintQuota(5, 1, now.AddSeconds(30)), now).Reset);
        Assert.Equal("2026-12-03T08:23:00Z", MintingApi.LimitFields(new MintQuota(5, 1, now.AddSeconds(90)), now).Reset);
        Assert.Equal("2026-12-03T08:22:00Z", MintingApi.LimitFields(new MintQuota(5, 1, now.AddSeconds(30)), now).Reset);
    }

    [Theory]
    [InlineData(599_940_000L, "59.99-seconds")]
    [InlineData(599_950_000L, "60.00-seconds")]
    [InlineData(599_949_999L, "59.99-seconds")]
    [InlineData(50_000L, "0.01-seconds")]
    [InlineData(49_999L, "0.00-seconds")]
    [InlineData(0L, "0.00-seconds")]
    [InlineData(-10_000_000L, "0.00-seconds")]
    [InlineData(36_000_000_000L, "3600.00-seconds")]
    public void the_retry_after_text_is_the_time_left_in_hundredths_of_a_second(long ticks, string expected) =>
        Assert.Equal(expected, MintingApi.SecondsText(TimeSpan.FromTicks(ticks)));
}
