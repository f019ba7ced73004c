using System.Numerics;
using System.Text;
using BenchmarkDotNet.Attributes;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.ABI.Model;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.Model;
using Nethereum.Signer;
using Nethereum.Util;
using NBitcoin.Secp256k1;
using OpenMint.Chain;
using NethKey = Nethereum.Signer.EthECKey;

namespace OpenMint.Chain.Bench;

[Struct("Mint")]
public sealed class MintDto
{
    [Parameter("address", "to", 1)]
    public string To { get; set; } = "";

    [Parameter("uint256[]", "tokenIds", 2)]
    public List<BigInteger> TokenIds { get; set; } = [];
}

[Function("mintBatch")]
public sealed class MintBatchFunction
{
    [Parameter("tuple[]", "mints", 1)]
    public List<MintDto> Mints { get; set; } = [];
}

/// <summary>Keccak-256: OpenMint.Chain.Keccak vs Nethereum.Util's Sha3Keccack.</summary>
[MemoryDiagnoser]
public class KeccakBench
{
    private byte[] _data = [];

    [Params(32, 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup() => _data = Enumerable.Range(0, Size).Select(i => (byte)i).ToArray();

    [Benchmark(Baseline = true)]
    public byte[] Ours() => Keccak.Hash(_data);

    [Benchmark]
    public byte[] Nethereum() => Sha3Keccack.Current.CalculateHash(_data);
}

/// <summary>secp256k1 sign (recoverable, low-s) and public-key recovery.</summary>
[MemoryDiagnoser]
public class SignRecoverBench
{
    private static readonly byte[] PrivateKey = Convert.FromHexString("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
    private readonly byte[] _hash = Keccak.Hash("OpenMint benchmark message"u8);
    private readonly EthKey _ours = EthKey.FromBytes(PrivateKey);
    private readonly NethKey _nethereum = new(PrivateKey, true);
    private readonly ECPrivKey _nbitcoin = Context.Instance.CreateECPrivKey(PrivateKey);
    private Signature _ourSig = null!;
    private EthECDSASignature _nethereumSig = null!;
    private SecpRecoverableECDSASignature _nbitcoinSig = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ourSig = _ours.Sign(_hash);
        _nethereumSig = _nethereum.SignAndCalculateV(_hash);
        _nbitcoin.TrySignRecoverable(_hash, out var sig);
        _nbitcoinSig = sig!;
    }

    [Benchmark(Baseline = true)]
    public Signature SignOurs() => _ours.Sign(_hash);

    [Benchmark]
    public EthECDSASignature SignNethereum() => _nethereum.SignAndCalculateV(_hash);

    [Benchmark]
    public SecpRecoverableECDSASignature SignNBitcoinSecp256k1()
    {
        _nbitcoin.TrySignRecoverable(_hash, out var sig);
        return sig!;
    }

    [Benchmark]
    public byte[] RecoverOurs() => Secp256k1.RecoverPublicKey(_hash, _ourSig);

    [Benchmark]
    public byte[] RecoverNethereum() => NethKey.RecoverFromSignature(_nethereumSig, _hash).GetPubKeyNoPrefix();

    [Benchmark]
    public byte[] RecoverNBitcoinSecp256k1()
    {
        ECPubKey.TryRecover(Context.Instance, _nbitcoinSig, _hash, out var publicKey);
        var output = new byte[65];
        publicKey!.WriteToSpan(false, output, out _);
        return output;
    }

    [Benchmark]
    public string? PersonalRecoverOurs() => PersonalSign.Recover("1700000000", PersonalSignature);

    [Benchmark]
    public string PersonalRecoverNethereum() => new EthereumMessageSigner().EncodeUTF8AndEcRecover("1700000000", PersonalSignature);

    private const string PersonalSignature = "0x09cc4051c6feeac098cb5a10598ea5a12947c95132de85bc00628a79d526aaba0e4f455ca4ed9f4cba8e4dab4a3a732c2ca8d87c3b7e3f05f73eae3be686a4fe00";
}

/// <summary>ABI-encode mintBatch((address,uint256[])[]) for 100 assets (100 recipients, one id each).</summary>
[MemoryDiagnoser]
public class AbiBench
{
    private const string Signature = "mintBatch((address,uint256[])[])";
    private readonly object[] _ours;
    private readonly MintBatchFunction _nethereum;
    private readonly string _selector = Hex.Encode(Abi.Selector(Signature), prefix: false);

    public AbiBench()
    {
        var recipients = Enumerable.Range(0, 100).Select(i => "0x" + (i + 1).ToString("x40", System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        _ours = recipients.Select((to, i) => (object)new object[] { to, new[] { new BigInteger(1000 + i) } }).ToArray();
        _nethereum = new MintBatchFunction { Mints = recipients.Select((to, i) => new MintDto { To = to, TokenIds = [new BigInteger(1000 + i)] }).ToList() };
    }

    [Benchmark(Baseline = true)]
    public byte[] EncodeOurs() => Abi.EncodeCall(Signature, [_ours]);

    [Benchmark]
    public byte[] EncodeNethereum() => new FunctionCallEncoder().EncodeRequest(_nethereum, _selector).HexToByteArray();
}

/// <summary>RLP-encode and sign an EIP-1559 mint transaction (4 KiB of calldata), returning the raw bytes.</summary>
[MemoryDiagnoser]
public class Eip1559Bench
{
    private static readonly byte[] PrivateKey = Convert.FromHexString("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
    private const string To = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    private readonly byte[] _data = Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray();
    private readonly EthKey _ours = EthKey.FromBytes(PrivateKey);
    private readonly Transaction1559Signer _signer = new();

    [Benchmark(Baseline = true)]
    public byte[] SignOurs() =>
        new Eip1559Transaction(31337, 7, 1_000_000_000, 30_000_000_000, 2_000_000, To, BigInteger.Zero, _data).Sign(_ours).Raw;

    [Benchmark]
    public byte[] SignNethereum()
    {
        var tx = new Transaction1559(31337, 7, 1_000_000_000, 30_000_000_000, 2_000_000, To, BigInteger.Zero, _data.ToHex(), null);
        _signer.SignTransaction(PrivateKey, tx);
        return tx.GetRLPEncoded();
    }
}

/// <summary>Decode an ERC-1155 TransferBatch log's data (uint256[] ids, uint256[] values) for 100 tokens, as receipts are read.</summary>
[MemoryDiagnoser]
public class LogDecodeBench
{
    private readonly byte[] _data = Abi.Encode(["uint256[]", "uint256[]"],
        [Enumerable.Range(0, 100).Select(i => new BigInteger(1000 + i)).ToArray(), Enumerable.Repeat(BigInteger.One, 100).ToArray()]);

    private static readonly Parameter[] Parameters = [new("uint256[]", "ids", 1), new("uint256[]", "values", 2)];

    [Benchmark(Baseline = true)]
    public BigInteger[] DecodeOurs()
    {
        var decoded = Abi.Decode(["uint256[]", "uint256[]"], _data);
        return [.. ((object?[])decoded[0]!).Cast<BigInteger>()];
    }

    [Benchmark]
    public BigInteger[] DecodeNethereum()
    {
        var decoded = new ParameterDecoder().DecodeDefaultData(_data, Parameters);
        return [.. ((List<BigInteger>)decoded[0].Result)];
    }
}
