using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using OpenMint.Chain;
using OpenMint.Core.Refresh;

namespace OpenMint.Api.Refresh;

/// <summary>Who signed a refresh API call, or why the call is refused (always a 401, never an exception).</summary>
internal sealed record RefreshCaller(string? Address, string? Problem)
{
    public bool IsAuthenticated => Address is not null;
}

/// <summary>
/// Project-owner signatures (docs/api.md section 2): <c>x-imx-eth-signature</c> is an EIP-191 personal_sign of the
/// <c>x-imx-eth-timestamp</c> string; the recovered signer must be <c>x-imx-eth-address</c> and the timestamp
/// within <see cref="RefreshOptions.TimestampToleranceSeconds"/> of server time.
/// </summary>
internal sealed partial class RefreshAuth(RefreshOptions options, TimeProvider time, ISignatureLedger ledger)
{
    public const string AddressHeader = "x-imx-eth-address";
    public const string SignatureHeader = "x-imx-eth-signature";
    public const string TimestampHeader = "x-imx-eth-timestamp";

    // r (64 hex) s (64 hex) v (2 hex: 00/01, or 1b/1c as wallets write it).
    [GeneratedRegex("^0x[0-9a-fA-F]{128}(00|01|1[bB]|1[cC])$")]
    private static partial Regex SignaturePattern();

    /// <summary>secp256k1 n/2, 64 lower-case hex digits: s above it is the malleated twin of a valid signature.</summary>
    private const string HalfOrder = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";

    /// <summary>For a signature that matched <see cref="SignaturePattern"/>: s (hex 66..130) compared as fixed-width hex.</summary>
    internal static bool IsHighS(string signature) =>
        string.Compare(signature.Substring(66, 64), HalfOrder, StringComparison.OrdinalIgnoreCase) > 0;

    private DateTimeOffset Now => options.AuthClockUnixSeconds is { } pinned ? DateTimeOffset.FromUnixTimeSeconds(pinned) : time.GetUtcNow();

    public RefreshCaller Authenticate(HttpRequest request)
    {
        var address = request.Headers[AddressHeader].ToString().Trim();
        var signature = request.Headers[SignatureHeader].ToString().Trim();
        var timestamp = request.Headers[TimestampHeader].ToString().Trim();
        if (address.Length == 0 || signature.Length == 0 || timestamp.Length == 0)
        {
            return new(null, "missing x-imx-eth-address, x-imx-eth-signature or x-imx-eth-timestamp header");
        }
        if (!EthAddress.IsValid(address))
        {
            return new(null, "x-imx-eth-address is not an address");
        }
        if (!SignaturePattern().IsMatch(signature))
        {
            return new(null, "x-imx-eth-signature must be 0x + r (64 hex) + s (64 hex) + v (00, 01, 1b or 1c)");
        }
        if (IsHighS(signature))
        {
            return new(null, "x-imx-eth-signature has s above n/2 (EIP-2): sign again, wallets produce low-s signatures");
        }
        if (timestamp.Length > 12 || !timestamp.All(char.IsAsciiDigit)
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return new(null, "x-imx-eth-timestamp must be unix seconds");
        }
        if (Math.Abs(Now.ToUnixTimeSeconds() - seconds) > options.TimestampToleranceSeconds)
        {
            return new(null, $"x-imx-eth-timestamp is more than {options.TimestampToleranceSeconds} s from server time");
        }
        var signer = RecoverCached(timestamp, signature);
        if (signer is null || !string.Equals(signer, address, StringComparison.OrdinalIgnoreCase))
        {
            return new(null, "x-imx-eth-signature was not made by x-imx-eth-address");
        }
        return new(signer.ToLowerInvariant(), null);
    }

    /// <summary>
    /// <see cref="Authenticate"/> for a call that creates something (POST): the signature is also spent in the
    /// store's ledger, so replaying it (here or on another instance) within its window is refused. Reads may reuse it.
    /// </summary>
    public async Task<RefreshCaller> AuthenticateOnceAsync(HttpRequest request, CancellationToken ct)
    {
        var caller = Authenticate(request);
        if (!caller.IsAuthenticated)
        {
            return caller;
        }
        var signature = request.Headers[SignatureHeader].ToString().Trim().ToLowerInvariant();
        // 1b/1c and 00/01 spell the same recovery id: one ledger entry for both spellings.
        signature = signature[..^2] + (signature[^2..] is "1b" or "00" ? "00" : "01");
        var timestamp = long.Parse(request.Headers[TimestampHeader].ToString().Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
        var expires = DateTimeOffset.FromUnixTimeSeconds(timestamp + options.TimestampToleranceSeconds + 1);
        if (!await ledger.TryUseAsync(signature, expires, Now, ct).ConfigureAwait(false))
        {
            return new(null, "x-imx-eth-signature was already used for a POST: each creating call needs a new signature (sign a new timestamp)");
        }
        return caller;
    }

    // Recovery costs milliseconds of CPU, and clients send the same (timestamp, signature) pair on every call
    // within a second; the pair always recovers to the same address, so verified pairs are remembered until
    // their timestamp leaves the tolerance window. The window check above still runs on every request.
    private readonly ConcurrentDictionary<(string Timestamp, string Signature), string> _verified = new();
    private long _nextPrune;

    private string? RecoverCached(string timestamp, string signature)
    {
        var key = (timestamp, signature.ToLowerInvariant());
        if (_verified.TryGetValue(key, out var known))
        {
            return known;
        }
        string? signer;
        try
        {
            signer = PersonalSign.Recover(timestamp, signature);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or ArithmeticException)
        {
            signer = null; // r or s out of range, no curve point: a forgery, not a server error
        }
        if (signer is null)
        {
            return null; // forgeries are not remembered: nobody can fill the cache with them
        }
        var now = Now.ToUnixTimeSeconds();
        if (now >= Interlocked.Read(ref _nextPrune) || _verified.Count > 100_000)
        {
            Interlocked.Exchange(ref _nextPrune, now + 60);
            foreach (var entry in _verified.Keys)
            {
                if (Math.Abs(now - long.Parse(entry.Timestamp, CultureInfo.InvariantCulture)) > options.TimestampToleranceSeconds)
                {
                    _verified.TryRemove(entry, out _);
                }
            }
        }
        _verified[key] = signer;
        return signer;
    }
}
