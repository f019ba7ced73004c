using System.Collections.Frozen;
using System.Globalization;
using System.Numerics;

namespace OpenMint.Chain;

/// <summary>Human-readable text for revert data returned by eth_call / eth_estimateGas.</summary>
public static class RevertReason
{
    private static readonly byte[] ErrorSelector = [0x08, 0xc3, 0x79, 0xa0];
    private static readonly byte[] PanicSelector = [0x4e, 0x48, 0x7b, 0x71];

    // Solidity's panic codes (docs: "Panic via assert and Error via require").
    private static readonly FrozenDictionary<int, string> PanicCodes = new Dictionary<int, string>
    {
        [0x00] = "generic compiler panic",
        [0x01] = "assertion failed",
        [0x11] = "arithmetic overflow",
        [0x12] = "division or modulo by zero",
        [0x21] = "invalid enum value",
        [0x22] = "invalid storage byte array encoding",
        [0x31] = "pop on empty array",
        [0x32] = "array index out of bounds",
        [0x41] = "out of memory",
        [0x51] = "call to uninitialised internal function",
    }.ToFrozenDictionary();

    /// <summary>Custom errors we can name: Immutable presets (@imtbl/contracts 3.1.1 ABIs) and OpenZeppelin 5.</summary>
    internal static readonly IReadOnlyList<string> KnownErrors =
    [
        // @imtbl/contracts 3.1.1: ImmutableERC721, ImmutableERC721MintByID, ImmutableERC1155 ABIs.
        "IImmutableERC721TokenAlreadyBurned(uint256)",
        "IImmutableERC721SendingToZerothAddress()",
        "IImmutableERC721MismatchedTransferLengths()",
        "IImmutableERC721IDAboveThreshold(uint256)",
        "IImmutableERC721NotOwnerOrOperator(uint256)",
        "IImmutableERC721MismatchedTokenOwner(uint256,address)",
        "SignerCannotBeZerothAddress()",
        "PermitExpired()",
        "InvalidSignature()",
        "AllowlistDoesNotImplementIOperatorAllowlist()",
        "CallerNotInAllowlist(address)",
        "TransferFromNotInAllowlist(address)",
        "TransferToNotInAllowlist(address)",
        "ApproveTargetNotInAllowlist(address)",
        "ApproverNotInAllowlist(address)",
        "InvalidShortString()",
        "StringTooLong(string)",
        "RenounceOwnershipNotAllowed()",
        // OpenZeppelin Contracts 5: draft-IERC6093 and access control, ownable, pausable, address, strings.
        "AccessControlUnauthorizedAccount(address,bytes32)",
        "AccessControlBadConfirmation()",
        "OwnableUnauthorizedAccount(address)",
        "OwnableInvalidOwner(address)",
        "ERC721InvalidOwner(address)",
        "ERC721NonexistentToken(uint256)",
        "ERC721IncorrectOwner(address,uint256,address)",
        "ERC721InvalidSender(address)",
        "ERC721InvalidReceiver(address)",
        "ERC721InsufficientApproval(address,uint256)",
        "ERC721InvalidApprover(address)",
        "ERC721InvalidOperator(address)",
        "ERC1155InsufficientBalance(address,uint256,uint256,uint256)",
        "ERC1155InvalidSender(address)",
        "ERC1155InvalidReceiver(address)",
        "ERC1155MissingApprovalForAll(address,address)",
        "ERC1155InvalidApprover(address)",
        "ERC1155InvalidOperator(address)",
        "ERC1155InvalidArrayLength(uint256,uint256)",
        "ERC20InsufficientBalance(address,uint256,uint256)",
        "ERC20InvalidSender(address)",
        "ERC20InvalidReceiver(address)",
        "ERC20InsufficientAllowance(address,uint256,uint256)",
        "ERC20InvalidApprover(address)",
        "ERC20InvalidSpender(address)",
        "ERC2981InvalidDefaultRoyalty(uint256,uint256)",
        "ERC2981InvalidDefaultRoyaltyReceiver(address)",
        "ERC2981InvalidTokenRoyalty(uint256,uint256,uint256)",
        "ERC2981InvalidTokenRoyaltyReceiver(uint256,address)",
        "EnforcedPause()",
        "ExpectedPause()",
        "ReentrancyGuardReentrantCall()",
        "AddressEmptyCode(address)",
        "FailedCall()",
        "FailedInnerCall()",
        "InsufficientBalance(uint256,uint256)",
        "StringsInsufficientHexLength(uint256,uint256)",
        "ECDSAInvalidSignature()",
        "ECDSAInvalidSignatureLength(uint256)",
        "ECDSAInvalidSignatureS(bytes32)",
    ];

    private static readonly FrozenDictionary<uint, string> KnownBySelector =
        KnownErrors.ToFrozenDictionary(s => SelectorKey(Abi.Selector(s)), s => s);

    /// <summary>
    /// Error(string) → the string; Panic(uint256) → "panic: 0x11 (arithmetic overflow)"; a known custom error →
    /// "Name(arg,...)"; no data → "(no reason)"; anything else → the data as 0x hex. Never throws.
    /// </summary>
    public static string Decode(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return "(no reason)";
        }
        if (data.Length < 4)
        {
            return Hex.Encode(data);
        }
        var selector = data[..4];
        var args = data[4..];
        try
        {
            if (selector.SequenceEqual(ErrorSelector))
            {
                return (string)Abi.Decode(["string"], args)[0]!;
            }
            if (selector.SequenceEqual(PanicSelector))
            {
                var code = (BigInteger)Abi.Decode(["uint256"], args)[0]!;
                var hex = "0x" + (code.IsZero ? "00" : Convert.ToHexStringLower(code.ToByteArray(isUnsigned: true, isBigEndian: true)));
                return code <= int.MaxValue && PanicCodes.TryGetValue((int)code, out var name)
                    ? $"panic: {hex} ({name})"
                    : $"panic: {hex}";
            }
            if (KnownBySelector.TryGetValue(SelectorKey(selector), out var signature))
            {
                var (name, _) = Abi.ParseSignature(signature);
                var values = Abi.DecodeArguments(signature, args);
                return name + "(" + string.Join(",", values.Select(Format)) + ")";
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or InvalidCastException)
        {
            // A selector we know with arguments that do not decode: fall back to the raw bytes.
        }
        return Hex.Encode(data);
    }

    /// <summary>Decodes revert data given as a 0x hex string (e.g. <see cref="JsonRpcException.DataHex"/>).</summary>
    public static string Decode(string? dataHex)
    {
        if (string.IsNullOrEmpty(dataHex))
        {
            return "(no reason)";
        }
        try
        {
            return Decode(Hex.Decode(dataHex));
        }
        catch (FormatException)
        {
            return dataHex;
        }
    }

    private static uint SelectorKey(ReadOnlySpan<byte> selector) =>
        (uint)(selector[0] << 24 | selector[1] << 16 | selector[2] << 8 | selector[3]);

    private static string Format(object? value) => value switch
    {
        null => "null",
        BigInteger v => v.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        byte[] bytes => Hex.Encode(bytes),
        string s => s.StartsWith("0x", StringComparison.Ordinal) && s.Length == 42 ? s : "\"" + s + "\"",
        object?[] items => "[" + string.Join(",", items.Select(Format)) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

}
