using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenMint.Chain;
using OpenMint.Core;
using OpenMint.Core.Minting;

namespace OpenMint.Api.Endpoints;

/// <summary>docs/api.md, assets: reading one token, with the metadata given at mint or fetched by a refresh.</summary>
public static class AssetsApi
{
    public static IEndpointRouteBuilder MapAssetsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/chains/{chain_name}/collections/{contract_address}/nfts/{token_id}", GetAsync);
        return routes;
    }

    internal static async Task<Results<TokenResult, ApiError>> GetAsync(
        HttpContext http, string chain_name, string contract_address, string token_id, MintingContext context, IMintStore store, CancellationToken ct)
    {
        if (!(await context.ResolveAsync(http.Request, chain_name, contract_address, ct).ConfigureAwait(false)).TryGet(out var target, out var error))
        {
            return error;
        }
        if (!Uint256.TryCanonicalize(token_id, out var tokenId))
        {
            return ApiErrors.ValidationError($"token_id: \"{Texts.Shorten(token_id)}\" is not a uint256 decimal string");
        }
        var token = await store.GetTokenAsync(target.Collection.Id, tokenId, ct).ConfigureAwait(false);
        if (token is null)
        {
            return ApiErrors.NotFound($"token {tokenId} not found in collection {target.Collection.Address}");
        }
        return new TokenResult(token, target);
    }

    /// <summary>The 200 token shape, written straight to the response.</summary>
    internal sealed class TokenResult(TokenRecord token, MintingTarget target) : Utf8JsonResult(StatusCodes.Status200OK, 2048)
    {
        public TokenRecord Token => token;

        protected override void WriteBody(Utf8JsonWriter w)
        {
            using (var metadata = ReadMetadata(token.MetadataJson))
            {
                var m = metadata?.RootElement.ValueKind == JsonValueKind.Object ? metadata.RootElement : (JsonElement?)null;
                w.WriteStartObject();
                w.WriteStartObject("result");
                target.Chain.WriteJson(w);
                w.WriteString("contract_address", target.Collection.Address);
                w.WriteString("token_id", token.TokenId);
                w.WriteString("owner_address", token.OwnerAddress);
                WriteMetadata(w, m);
                if (token.MetadataSyncedAt is { } synced)
                {
                    w.WriteString("metadata_synced_at", Time.ToWire(synced));
                }
                else
                {
                    w.WriteNull("metadata_synced_at");
                }
                w.WriteString("updated_at", Time.ToWire(token.UpdatedAt));
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }

        /// <summary>A stored value we cannot read serves as "no metadata", never as a 500.</summary>
        private static JsonDocument? ReadMetadata(string? json)
        {
            if (json is null)
            {
                return null;
            }
            try
            {
                return JsonDocument.Parse(json);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>The standard string fields and <c>attributes</c>, each null when the metadata lacks it.</summary>
        private static void WriteMetadata(Utf8JsonWriter w, JsonElement? m)
        {
            foreach (var field in MetadataFields.Strings)
            {
                if (m is { } obj && obj.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String)
                {
                    w.WriteString(field, v.GetString());
                }
                else
                {
                    w.WriteNull(field);
                }
            }
            if (m is { } o && o.TryGetProperty("attributes", out var attributes) && attributes.ValueKind == JsonValueKind.Array)
            {
                w.WritePropertyName("attributes");
                attributes.WriteTo(w);
            }
            else
            {
                w.WriteNull("attributes");
            }
        }
    }
}
