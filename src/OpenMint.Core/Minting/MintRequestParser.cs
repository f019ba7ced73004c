using System.Text;
using System.Text.Json;
using OpenMint.Chain;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Minting;

/// <summary>A create body that parsed, or the VALIDATION_ERROR message naming what is wrong.</summary>
public sealed record MintParseResult(IReadOnlyList<MintAsset>? Assets, string? Error, long RateUnits)
{
    public static MintParseResult Fail(string error) => new(null, error, 0);
}

/// <summary>
/// Validates a create body (docs/api.md section 1) by hand from the raw bytes, so every malformed input
/// becomes a 400 that names the field instead of a serializer exception.
/// </summary>
public static class MintRequestParser
{
    public const int MaxAssets = 100;
    public const int MaxReferenceIdLength = 256;
    public const int MaxMetadataBytes = 16 * 1024;

    /// <summary>2^128: V1 and V2 presets mint by quantity from here on, and <c>mintBatch</c> reverts at or above it.</summary>
    public const string ByQuantityThreshold = "340282366920938463463374607431768211456";

    public static MintParseResult Parse(ReadOnlySpan<byte> body, CollectionKind kind, PresetVariant variant = PresetVariant.Unknown) => Parse(body.ToArray(), kind, variant);

    /// <summary>Parses <paramref name="body"/> in place (the caller may reuse the buffer once this returns).</summary>
    /// <param name="variant">The collection's preset: decides which token ids can be minted (by quantity or by id).</param>
    public static MintParseResult Parse(ReadOnlyMemory<byte> body, CollectionKind kind, PresetVariant variant = PresetVariant.Unknown)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return MintParseResult.Fail("request body is not valid UTF-8");
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            return MintParseResult.Fail($"request body is not valid JSON: {ex.Message}");
        }
        using (doc)
        {
            // A lone surrogate escape cannot become a .NET string, and lookups that unescape a property name to
            // compare it throw on one. Only a body with a \u escape can hold one: a vectorized search, and the
            // walk of every string only for those bodies, so such a body is refused wherever the escape sits.
            if (body.Span.IndexOf("\\u"u8) >= 0 && JsonText.FindInvalidString(doc.RootElement) is { } bad)
            {
                return MintParseResult.Fail($"request body has an error: {bad}: not valid text (a lone UTF-16 surrogate escape such as \\ud800)");
            }
            return Parse(doc.RootElement, kind, variant);
        }
    }

    private static MintParseResult Parse(JsonElement root, CollectionKind kind, PresetVariant variant)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return MintParseResult.Fail("request body has an error: doesn't match schema: /: value must be an object");
        }
        if (!root.TryGetProperty("assets", out var assets) || assets.ValueKind == JsonValueKind.Null)
        {
            return MintParseResult.Fail("request body has an error: doesn't match schema: /assets: property \"assets\" is missing");
        }
        if (assets.ValueKind != JsonValueKind.Array)
        {
            return MintParseResult.Fail("request body has an error: doesn't match schema: /assets: value must be an array");
        }
        var count = assets.GetArrayLength();
        if (count > MaxAssets)
        {
            return MintParseResult.Fail($"request body has an error: doesn't match schema: /assets: maximum number of items is {MaxAssets}");
        }
        if (count == 0)
        {
            return MintParseResult.Fail("request body has an error: doesn't match schema: /assets: minimum number of items is 1");
        }

        return ParseAssets(assets, count, kind, variant);
    }

    /// <summary>Every asset, then the checks across assets (duplicates, ERC1155 amount sums); all or nothing.</summary>
    private static MintParseResult ParseAssets(JsonElement assets, int count, CollectionKind kind, PresetVariant variant)
    {
        var result = new List<MintAsset>(count);
        // A single asset (what most requests carry) cannot repeat anything: no sets for it.
        var referenceIds = count > 1 ? new HashSet<string>(count, StringComparer.Ordinal) : null;
        var tokenIds = count > 1 ? new HashSet<string>(count, StringComparer.Ordinal) : null;
        var compact = MetadataWriter.ForThisThread();
        long byQuantity = 0;
        long singleToken = 0;
        HashSet<string>? repeated = null;
        var index = 0;
        foreach (var item in assets.EnumerateArray())
        {
            var error = ParseAsset(item, index, kind, variant, compact, out var asset);
            if (error is not null)
            {
                return MintParseResult.Fail(error);
            }
            if (referenceIds?.Add(asset!.ReferenceId) == false)
            {
                return MintParseResult.Fail($"duplicated reference id: {asset.ReferenceId}");
            }
            if (asset!.TokenId is null)
            {
                byQuantity++;
            }
            else if (tokenIds is null)
            {
                singleToken = 1;
            }
            else if (!tokenIds.Add(asset.TokenId))
            {
                if (kind == CollectionKind.Erc721)
                {
                    return MintParseResult.Fail($"duplicated token id: {asset.TokenId}");
                }
                (repeated ??= []).Add(asset.TokenId);
            }
            result.Add(asset);
            index++;
        }
        if (repeated is not null && CheckAmountSums(result, repeated) is { } overflow)
        {
            return MintParseResult.Fail(overflow);
        }
        // The limit counts distinct token ids: many copies of one ERC1155 id count once.
        return new MintParseResult(result, null, (tokenIds?.Count ?? singleToken) + byQuantity);
    }

    /// <summary>ERC1155 amounts of one token id are minted together: their sum must still be a uint256.</summary>
    private static string? CheckAmountSums(List<MintAsset> assets, HashSet<string> repeated)
    {
        var sums = new Dictionary<string, System.Numerics.BigInteger>(StringComparer.Ordinal);
        for (var i = 0; i < assets.Count; i++)
        {
            var a = assets[i];
            if (a.TokenId is null || a.Amount is null || !repeated.Contains(a.TokenId))
            {
                continue;
            }
            var sum = sums.GetValueOrDefault(a.TokenId) + Uint256.ToBigInteger(a.Amount);
            if (sum > Uint256.Max)
            {
                return $"request body has an error: {new AssetPath(i)}/amount: the amounts of token id {a.TokenId} in this request add up to more than 2^256-1";
            }
            sums[a.TokenId] = sum;
        }
        return null;
    }

    private static string? ParseAsset(JsonElement item, int index, CollectionKind kind, PresetVariant variant, MetadataWriter compact, out MintAsset? asset)
    {
        asset = null;
        // Where an error points; only formatted when there is one.
        var at = new AssetPath(index);
        if (item.ValueKind != JsonValueKind.Object)
        {
            return $"request body has an error: doesn't match schema: {at}: value must be an object";
        }
        var error = ParseOwnerAndReference(item, at, out var referenceId, out var owner);
        if (error is not null)
        {
            return error;
        }
        error = ParseTokenAndAmount(item, at, kind, variant, out var tokenId, out var amount);
        if (error is not null)
        {
            return error;
        }

        string? metadata = null;
        if (item.TryGetProperty("metadata", out var meta) && meta.ValueKind != JsonValueKind.Null)
        {
            error = ValidateMetadata(meta, at);
            if (error is not null)
            {
                return error;
            }
            if (!compact.TryWrite(meta, MaxMetadataBytes, out metadata))
            {
                return $"request body has an error: {at}/metadata: metadata is larger than {MaxMetadataBytes} bytes when serialized";
            }
        }

        asset = new MintAsset(referenceId!, owner!, tokenId, amount, metadata);
        return null;
    }

    private static string? ParseOwnerAndReference(JsonElement item, AssetPath at, out string? referenceId, out string? owner)
    {
        owner = null;
        if (!TryGetString(item, "reference_id", at, required: true, out referenceId, out var error))
        {
            return error;
        }
        if (referenceId!.Length is 0 or > MaxReferenceIdLength)
        {
            return $"request body has an error: doesn't match schema: {at}/reference_id: length must be between 1 and {MaxReferenceIdLength} characters";
        }
        if (JsonText.HasControlCharacter(referenceId))
        {
            // NUL and friends cannot travel back in a path to read the request by id.
            return $"request body has an error: doesn't match schema: {at}/reference_id: must not contain control characters";
        }

        if (!TryGetString(item, "owner_address", at, required: true, out var ownerRaw, out error))
        {
            return error;
        }
        if (!EthAddress.TryParse(ownerRaw, out var lower))
        {
            return $"request body has an error: doesn't match schema: {at}/owner_address: \"{Texts.Shorten(ownerRaw!)}\" is not an address (0x followed by 40 hex characters)";
        }
        if (lower == EthAddress.Zero)
        {
            return $"request body has an error: {at}/owner_address: the zero address cannot receive a token (the mint would revert)";
        }
        owner = lower;
        return null;
    }

    private static string? ParseTokenAndAmount(JsonElement item, AssetPath at, CollectionKind kind, PresetVariant variant, out string? tokenId, out string? amount)
    {
        amount = null;
        var error = ParseUint256(item, "token_id", at, out tokenId);
        if (error is not null)
        {
            return error;
        }
        error = ParseUint256(item, "amount", at, out amount);
        if (error is not null)
        {
            return error;
        }
        if (kind == CollectionKind.Erc721)
        {
            if (amount is not null && amount != "1")
            {
                return "amount is only relevant for ERC1155 collections, it must be absent or \"1\" for ERC721 collections";
            }
            amount = null;
            if (tokenId is null && variant == PresetVariant.Erc721MintById)
            {
                return $"request body has an error: {at}/token_id: token_id is required for this collection (ImmutableERC721MintByID has no mint by quantity)";
            }
            if (tokenId is not null && variant is PresetVariant.Erc721V2 or PresetVariant.Erc721V1 && Uint256.Compare(tokenId, ByQuantityThreshold) >= 0)
            {
                return $"request body has an error: {at}/token_id: must be below 2^128 ({ByQuantityThreshold}) on this collection: ids from there on are minted by quantity";
            }
            return null;
        }
        if (tokenId is null)
        {
            return $"request body has an error: {at}/token_id: token_id is required for ERC1155 collections";
        }
        if (amount is null)
        {
            return $"request body has an error: {at}/amount: amount is required for ERC1155 collections";
        }
        if (amount == "0")
        {
            return $"request body has an error: {at}/amount: amount must be greater than 0";
        }
        return null;
    }

    private static string? ParseUint256(JsonElement item, string field, AssetPath at, out string? canonical)
    {
        canonical = null;
        if (!TryGetString(item, field, at, required: false, out var raw, out var error))
        {
            return error;
        }
        if (raw is not null && !Uint256.TryCanonicalize(raw, out canonical))
        {
            return $"request body has an error: doesn't match schema: {at}/{field}: \"{Texts.Shorten(raw)}\" is not a uint256 decimal string (digits only, at most 2^256-1)";
        }
        return null;
    }

    private static string? ValidateMetadata(JsonElement meta, AssetPath asset)
    {
        var at = new MetadataPath(asset);
        if (meta.ValueKind != JsonValueKind.Object)
        {
            return $"request body has an error: doesn't match schema: {at}: value must be an object or null";
        }
        if (JsonText.FindInvalidString(meta) is { } bad)
        {
            return $"request body has an error: {at}{bad}: not valid text (a lone UTF-16 surrogate escape such as \\ud800)";
        }
        foreach (var field in MetadataFields.Strings)
        {
            if (meta.TryGetProperty(field, out var v) && v.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                return $"request body has an error: doesn't match schema: {at}/{field}: value must be a string or null";
            }
        }
        if (!meta.TryGetProperty("attributes", out var attributes) || attributes.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (attributes.ValueKind != JsonValueKind.Array)
        {
            return $"request body has an error: doesn't match schema: {at}/attributes: value must be an array or null";
        }
        var i = 0;
        foreach (var attribute in attributes.EnumerateArray())
        {
            var here = new AttributePath(at, i++);
            if (attribute.ValueKind != JsonValueKind.Object)
            {
                return $"request body has an error: doesn't match schema: {here}: value must be an object";
            }
            if (!attribute.TryGetProperty("trait_type", out var trait) || trait.ValueKind != JsonValueKind.String)
            {
                return $"request body has an error: doesn't match schema: {here}/trait_type: value must be a string";
            }
            if (!attribute.TryGetProperty("value", out var value) || value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
            {
                return $"request body has an error: doesn't match schema: {here}/value: value must be a string, number or boolean";
            }
            if (attribute.TryGetProperty("display_type", out var display) && display.ValueKind != JsonValueKind.Null
                && (display.ValueKind != JsonValueKind.String || !MetadataFields.DisplayTypes.Contains(display.GetString())))
            {
                return $"request body has an error: doesn't match schema: {here}/display_type: value must be one of \"number\", \"boost_percentage\", \"boost_number\", \"date\" or null";
            }
        }
        return null;
    }

    private static bool TryGetString(JsonElement obj, string name, AssetPath at, bool required, out string? value, out string? error)
    {
        value = null;
        error = null;
        if (!obj.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                error = $"request body has an error: doesn't match schema: {at}/{name}: property \"{name}\" is missing";
                return false;
            }
            return true;
        }
        if (element.ValueKind != JsonValueKind.String)
        {
            error = $"request body has an error: doesn't match schema: {at}/{name}: value must be a string";
            return false;
        }
        if (!JsonText.TryGetString(element, out value))
        {
            error = $"request body has an error: {at}/{name}: not valid text (a lone UTF-16 surrogate escape such as \\ud800)";
            return false;
        }
        return true;
    }

    /// <summary>"/assets/N", formatted only into error messages.</summary>
    private readonly record struct AssetPath(int Index)
    {
        public override string ToString() => "/assets/" + Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private readonly record struct MetadataPath(AssetPath Asset)
    {
        public override string ToString() => Asset + "/metadata";
    }

    private readonly record struct AttributePath(MetadataPath Metadata, int Index)
    {
        public override string ToString() => Metadata + "/attributes/" + Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
