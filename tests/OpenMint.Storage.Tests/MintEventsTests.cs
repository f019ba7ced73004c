using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Tests;

public class MintEventsTests
{
    [Fact]
    public void stamping_an_event_id_into_a_prebuilt_payload_equals_building_it_with_that_id()
    {
        var now = DateTimeOffset.Parse("2024-02-12T05:35:35.743242Z", System.Globalization.CultureInfo.InvariantCulture);
        var chain = new ChainConfig("anvil", 31337, ["http://127.0.0.1:8545"], null, 0, now);
        var collection = new Collection(7, "anvil", "0x5fbdb2315678afecb367f032d93f642f64180aa3", "p1", CollectionKind.Erc1155, PresetVariant.Erc1155, null, true, now);
        var request = new MintRequestRecord(42, 7, "p1", "ref \"1\"/x", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "5", false,
            "115792089237316195423570985008687907853269984665640564039457584007913129639935", "{\"name\":\"n\"}", MintStatus.Pending,
            null, null, null, null, now, now);
        var id = Guid.Parse("01932f6e-8c1a-7abc-8def-0123456789ab");

        var stamped = MintEvents.WithEventId(MintEvents.Payload(Guid.Empty, request, collection, chain), id);

        Assert.Equal(MintEvents.Payload(id, request, collection, chain), stamped);
        Assert.Contains("\"event_id\":\"01932f6e-8c1a-7abc-8def-0123456789ab\"", stamped, StringComparison.Ordinal);
        Assert.DoesNotContain(Guid.Empty.ToString(), stamped, StringComparison.Ordinal);
    }
}
