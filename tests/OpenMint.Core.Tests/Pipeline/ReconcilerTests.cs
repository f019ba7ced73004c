using System.Numerics;
using OpenMint.Chain;
using OpenMint.Core.Pipeline;

namespace OpenMint.Core.Tests.Pipeline;

public class ReconcilerTests
{
    private const string Contract = "0x00000000000000000000000000000000000000cc";
    private const string A = "0x000000000000000000000000000000000000000a";
    private const string B = "0x000000000000000000000000000000000000000b";

    private static string Topic(BigInteger v) => "0x" + Convert.ToHexStringLower(MintCalls.Word(v));
    private static string TopicOf(string address) => "0x" + new string('0', 24) + address[2..];

    private static LogEntry Transfer(long index, string to, BigInteger id, string contract = Contract) =>
        new(contract, [Erc721Events.TransferTopic, Topic(0), TopicOf(to), Topic(id)], "0x", index, null, null);

    [Fact]
    public void by_quantity_ids_are_taken_from_transfer_logs_in_entry_order()
    {
        var first = BigInteger.Pow(2, 128) + 256;
        var logs = new List<LogEntry>
        {
            Transfer(5, B, first + 256),
            Transfer(1, A, first),
            Transfer(2, A, first + 1),
            Transfer(3, "0x00000000000000000000000000000000000000ff", 7, contract: "0x00000000000000000000000000000000000000dd"),
        };
        var entries = new[] { new MintEntry(A, [10, 11], null, null), new MintEntry(B, [12], null, null) };
        var tokens = Reconciler.Assign(MintMethod.ByQuantity, entries, Contract, logs);
        Assert.Equal(new[] { (10L, first.ToString()), (11L, (first + 1).ToString()), (12L, (first + 256).ToString()) },
            tokens.Select(t => (t.RequestId, t.TokenId)));
    }

    [Fact]
    public void a_receipt_with_fewer_transfers_than_the_batch_minted_is_not_reconciled()
    {
        var entries = new[] { new MintEntry(A, [10, 11], null, null) };
        Assert.Throws<InvalidOperationException>(() => Reconciler.Assign(MintMethod.ByQuantity, entries, Contract, [Transfer(1, A, 1)]));
    }

    [Fact]
    public void erc1155_ids_are_confirmed_by_the_transfer_batch_log()
    {
        var data = new List<byte>();
        foreach (var w in new BigInteger[] { 64, 160, 2, 7, 9, 2, 1, 3 })
        {
            data.AddRange(MintCalls.Word(w));
        }
        var log = new LogEntry(Contract, [Erc1155Events.TransferBatchTopic, TopicOf(A), Topic(0), TopicOf(B)], "0x" + Convert.ToHexStringLower(data.ToArray()), 0, null, null);
        var entries = new[] { new MintEntry(B, [1, 2], ["7", "9"], ["1", "3"]) };
        Assert.Equal(new[] { "7", "9" }, Reconciler.Assign(MintMethod.Erc1155, entries, Contract, [log]).Select(t => t.TokenId));
        Assert.Throws<InvalidOperationException>(() => Reconciler.Assign(MintMethod.Erc1155, [new MintEntry(B, [1], ["8"], ["1"])], Contract, [log]));
    }

    [Fact]
    public void by_id_requests_keep_their_ids_when_the_transfer_logs_confirm_them()
    {
        var entries = new[] { new MintEntry(A, [10, 11], ["5", "9"], null), new MintEntry(B, [12], ["7"], null) };
        var logs = new[] { Transfer(0, A, 9), Transfer(1, B, 7), Transfer(2, A, 5) };
        Assert.Equal(new[] { (10L, "5"), (11L, "9"), (12L, "7") }, Reconciler.Assign(MintMethod.ById, entries, Contract, logs).Select(t => (t.RequestId, t.TokenId)));
        var wrongOwner = new[] { Transfer(0, B, 9), Transfer(1, B, 7), Transfer(2, A, 5) };
        Assert.Throws<InvalidOperationException>(() => Reconciler.Assign(MintMethod.ById, entries, Contract, wrongOwner));
    }

    [Fact]
    public void transfers_that_are_not_mints_or_come_from_another_contract_are_ignored()
    {
        var notAMint = new LogEntry(Contract, [Erc721Events.TransferTopic, TopicOf(B), TopicOf(A), Topic(1)], "0x", 0, null, null);
        var entries = new[] { new MintEntry(A, [10], null, null) };
        Assert.Throws<InvalidOperationException>(() => Reconciler.Assign(MintMethod.ByQuantity, entries, Contract, [notAMint, Transfer(1, A, 2, contract: "0x00000000000000000000000000000000000000dd")]));
        Assert.Equal("3", Assert.Single(Reconciler.Assign(MintMethod.ByQuantity, entries, Contract, [notAMint, Transfer(2, A, 3)])).TokenId);
    }
}
