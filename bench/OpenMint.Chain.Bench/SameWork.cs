namespace OpenMint.Chain.Bench;

/// <summary>Each benchmark pair must produce the same output, or the comparison means nothing.</summary>
internal static class SameWork
{
    public static int Check()
    {
        var failures = 0;
        void Expect(string what, byte[] ours, byte[] theirs)
        {
            var same = ours.AsSpan().SequenceEqual(theirs);
            Console.WriteLine($"{(same ? "same" : "DIFFERENT")}: {what}");
            failures += same ? 0 : 1;
        }
        foreach (var size in new[] { 32, 1024 })
        {
            var keccak = new KeccakBench { Size = size };
            keccak.Setup();
            Expect($"keccak {size} B", keccak.Ours(), keccak.Nethereum());
        }
        var sign = new SignRecoverBench();
        sign.Setup();
        Expect("signature r", sign.SignOurs().ToBytes65()[..32], sign.SignNethereum().R);
        Expect("recovered public key (Nethereum)", sign.RecoverOurs(), sign.RecoverNethereum());
        Expect("recovered public key (NBitcoin.Secp256k1)", sign.RecoverOurs(), sign.RecoverNBitcoinSecp256k1()[1..]);
        Expect("personal_sign recover", System.Text.Encoding.ASCII.GetBytes(sign.PersonalRecoverOurs()!),
            System.Text.Encoding.ASCII.GetBytes(sign.PersonalRecoverNethereum().ToLowerInvariant()));
        var abi = new AbiBench();
        Expect("mintBatch calldata, 100 assets", abi.EncodeOurs(), abi.EncodeNethereum());
        var logs = new LogDecodeBench();
        Expect("TransferBatch ids, 100 tokens", logs.DecodeOurs().SelectMany(v => v.ToByteArray()).ToArray(),
            logs.DecodeNethereum().SelectMany(v => v.ToByteArray()).ToArray());
        var tx = new Eip1559Bench();
        Expect("signed EIP-1559 raw transaction", tx.SignOurs(), tx.SignNethereum());
        return failures == 0 ? 0 : 1;
    }
}
