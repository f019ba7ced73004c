using System.Text;
using System.Text.Json;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Minting;

/// <summary>A create body that parsed, or the VALIDATION_ERROR message naming what is wrong.</summary>
public sealed record MintParseResult(IReadOnlyList<MintAsset>? Assets, string? Error, long RateUnits)
{
    public static MintParseResult Fail(string error) => new(null, error, 0);
}

/// <summary>
/// Validates a create body (API.md section 1) by hand from the raw bytes, so every malformed input
/// becomes a 400 that names the field instead of a serializer exception.
/// </summary>
public static class MintRequestParser
{
    public const int MaxAssets = 100;
    public const int MaxReferenceIdLength = 256;
    public const int MaxMetadataBytes = 16 * 1024;

    private static readonly string[] StringMetadataFields = ["name", "description", "image", "external_url", "animation_url", "youtube_url"];
    private static readonly string[] DisplayTypes = ["number", "boost_percentage", "boost_number", "date"];

    public static MintParseResult Parse(ReadOnlySpan<byte> body, CollectionKind kind) => Parse(body.ToArray(), kind);

    /// <summary>Parses <paramref name="body"/> in place (the caller may reuse the buffer once this returns).</summary>
    public static MintParseResult Parse(ReadOnlyMemory<byte> body, CollectionKind kind)
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
            return Parse(doc.RootElement, kind);
        }
    }

    private static MintParseResult Parse(JsonElement root, CollectionKind kind)
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

        var result = new List<MintAsset>(count);
        var referenceIds = new HashSet<string>(count, StringComparer.Ordinal);
        var tokenIds = new HashSet<string>(count, StringComparer.Ordinal);
        var compact = new MetadataWriter();
        long byQuantity = 0;
        var index = 0;
        foreach (var item in assets.EnumerateArray())
        {
            var error = ParseAsset(item, index, kind, compact, out var asset);
            if (error is not null)
            {
                return MintParseResult.Fail(error);
            }
            if (!referenceIds.Add(asset!.ReferenceId))
            {
                return MintParseResult.Fail($"duplicated reference id: {asset.ReferenceId}");
            }
            if (asset.TokenId is null)
            {
                byQuantity++;
            }
            else if (!tokenIds.Add(asset.TokenId) && kind == CollectionKind.Erc721)
            {
                return MintParseResult.Fail($"duplicated token id: {asset.TokenId}");
            }
            result.Add(asset);
            index++;
        }
        // The limit counts distinct token ids: many copies of one ERC1155 id count once.
        return new MintParseResult(result, null, tokenIds.Count + byQuantity);
    }

    private static string? ParseAsset(JsonElement item, int index, CollectionKind kind, MetadataWriter compact, out MintAsset? asset)
    {
        asset = null;
        // Where an error points; only formatted when there is one.
        var at = new AssetPath(index);
        if (item.ValueKind != JsonValueKind.Object)
        {
            return $"request body has an error: doesn't match schema: {at}: value must be an object";
        }

        if (!TryGetString(item, "reference_id", at, required: true, out var referenceId, out var error))
        {
            return error;
        }
        if (referenceId!.Length is 0 or > MaxReferenceIdLength)
        {
            return $"request body has an error: doesn't match schema: {at}/reference_id: length must be between 1 and {MaxReferenceIdLength} characters";
        }

        if (!TryGetString(item, "owner_address", at, required: true, out var ownerRaw, out error))
        {
            return error;
        }
        if (!Address.TryNormalize(ownerRaw, out var owner))
        {
            return $"request body has an error: doesn't match schema: {at}/owner_address: \"{Truncate(ownerRaw!)}\" is not an address (0x followed by 40 hex characters)";
        }

        if (!TryGetString(item, "token_id", at, required: false, out var tokenRaw, out error))
        {
            return error;
        }
        string? tokenId = null;
        if (tokenRaw is not null)
        {
            if (!Uint256.TryCanonicalize(tokenRaw, out var canonical))
            {
                return $"request body has an error: doesn't match schema: {at}/token_id: \"{Truncate(tokenRaw)}\" is not a uint256 decimal string (digits only, at most 2^256-1)";
            }
            tokenId = canonical;
        }

        if (!TryGetString(item, "amount", at, required: false, out var amountRaw, out error))
        {
            return error;
        }
        string? amount = null;
        if (amountRaw is not null)
        {
            if (!Uint256.TryCanonicalize(amountRaw, out var canonical))
            {
                return $"request body has an error: doesn't match schema: {at}/amount: \"{Truncate(amountRaw)}\" is not a uint256 decimal string (digits only, at most 2^256-1)";
            }
            amount = canonical;
        }

        if (kind == CollectionKind.Erc721)
        {
            if (amount is not null && amount != "1")
            {
                return "amount is only relevant for ERC1155 collections, it must be absent or \"1\" for ERC721 collections";
            }
            amount = null;
        }
        else
        {
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

        asset = new MintAsset(referenceId, owner, tokenId, amount, metadata);
        return null;
    }

    private static string? ValidateMetadata(JsonElement meta, AssetPath asset)
    {
        var at = new MetadataPath(asset);
        if (meta.ValueKind != JsonValueKind.Object)
        {
            return $"request body has an error: doesn't match schema: {at}: value must be an object or null";
        }
        foreach (var field in StringMetadataFields)
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
                && (display.ValueKind != JsonValueKind.String || Array.IndexOf(DisplayTypes, display.GetString()) < 0))
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
        value = element.GetString();
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

    /// <summary>Compact metadata JSON, one buffer and writer reused for every asset of a request.</summary>
    private sealed class MetadataWriter
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new(256);
        private Utf8JsonWriter? _writer;

        public bool TryWrite(JsonElement element, int maxBytes, out string? json)
        {
            _buffer.ResetWrittenCount();
            if (_writer is null)
            {
                _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            }
            else
            {
                _writer.Reset(_buffer);
            }
            element.WriteTo(_writer);
            _writer.Flush();
            if (_buffer.WrittenCount > maxBytes)
            {
                json = null;
                return false;
            }
            json = Encoding.UTF8.GetString(_buffer.WrittenSpan);
            return true;
        }
    }

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "...";
}
