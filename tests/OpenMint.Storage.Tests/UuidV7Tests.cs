using OpenMint.Core;

namespace OpenMint.Storage.Tests;

public class UuidV7Tests
{
    [Fact]
    public void uuid_v7_values_strictly_increase_and_carry_version_and_variant()
    {
        var previous = UuidV7.New().ToString();
        for (var i = 0; i < 20_000; i++)
        {
            var next = UuidV7.New().ToString();
            Assert.True(string.CompareOrdinal(next, previous) > 0, $"{next} <= {previous}");
            Assert.Equal('7', next[14]);
            Assert.Contains(next[19], "89ab");
            previous = next;
        }
    }
}
