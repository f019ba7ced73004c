using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenMint.Api.OpenApi;

// The wire shapes as the OpenAPI document describes them (docs/api.md). The handlers write these bodies with
// Utf8JsonWriter for speed; these records exist for the document, and OpenApiDocumentTests checks live answers
// against it, so a drift between the two fails a test.

/// <summary>The mint create body.</summary>
internal sealed record MintRequestsBody([property: JsonPropertyName("assets")] IReadOnlyList<MintAssetBody> Assets);

internal sealed record MintAssetBody(
    [property: JsonPropertyName("reference_id")] string ReferenceId,
    [property: JsonPropertyName("owner_address")] string OwnerAddress,
    [property: JsonPropertyName("token_id")] string? TokenId,
    [property: JsonPropertyName("amount")] string? Amount,
    [property: JsonPropertyName("metadata")] JsonElement? Metadata);

/// <summary>The create's 202: the four limit values, as strings.</summary>
internal sealed record MintAcceptedBody(
    [property: JsonPropertyName("imx_mint_requests_limit")] string Limit,
    [property: JsonPropertyName("imx_mint_requests_limit_reset")] string LimitReset,
    [property: JsonPropertyName("imx_remaining_mint_requests")] string Remaining,
    [property: JsonPropertyName("imx_mint_requests_retry_after")] string RetryAfter);

internal sealed record ChainRef([property: JsonPropertyName("id")] string Id, [property: JsonPropertyName("name")] string Name);

internal sealed record MintRequestError([property: JsonPropertyName("message")] string Message);

internal sealed record MintRequestView(
    [property: JsonPropertyName("chain")] ChainRef Chain,
    [property: JsonPropertyName("collection_address")] string CollectionAddress,
    [property: JsonPropertyName("reference_id")] string ReferenceId,
    [property: JsonPropertyName("owner_address")] string OwnerAddress,
    [property: JsonPropertyName("token_id")] string? TokenId,
    [property: JsonPropertyName("amount")] string? Amount,
    [property: JsonPropertyName("activity_id")] string? ActivityId,
    [property: JsonPropertyName("transaction_hash")] string? TransactionHash,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("error")] MintRequestError? Error,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("updated_at")] string UpdatedAt);

internal sealed record MintPage(
    [property: JsonPropertyName("previous_cursor")] string? PreviousCursor,
    [property: JsonPropertyName("next_cursor")] string? NextCursor);

/// <summary>Get-by-reference-id and list: <c>{result: [...], page: {...}}</c>.</summary>
internal sealed record MintRequestsPage(
    [property: JsonPropertyName("result")] IReadOnlyList<MintRequestView> Result,
    [property: JsonPropertyName("page")] MintPage Page);

internal sealed record AssetView(
    [property: JsonPropertyName("chain")] ChainRef Chain,
    [property: JsonPropertyName("contract_address")] string ContractAddress,
    [property: JsonPropertyName("token_id")] string TokenId,
    [property: JsonPropertyName("owner_address")] string OwnerAddress,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("image")] string? Image,
    [property: JsonPropertyName("external_url")] string? ExternalUrl,
    [property: JsonPropertyName("animation_url")] string? AnimationUrl,
    [property: JsonPropertyName("youtube_url")] string? YoutubeUrl,
    [property: JsonPropertyName("attributes")] IReadOnlyList<JsonElement>? Attributes,
    [property: JsonPropertyName("metadata_synced_at")] string? MetadataSyncedAt,
    [property: JsonPropertyName("updated_at")] string UpdatedAt);

internal sealed record AssetResult([property: JsonPropertyName("result")] AssetView Result);

/// <summary>The Minting API's error shape (and the asset read's).</summary>
internal sealed record MintErrorBody(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("details")] JsonElement? Details,
    [property: JsonPropertyName("link")] string Link,
    [property: JsonPropertyName("trace_id")] string TraceId);

/// <summary>The Metadata Refresh API's error shape.</summary>
internal sealed record RefreshErrorBody(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("details")] string? Details);

internal sealed record RefreshCreateBody(
    [property: JsonPropertyName("collection_address")] string CollectionAddress,
    [property: JsonPropertyName("token_ids")] IReadOnlyList<string> TokenIds);

internal sealed record HealthStatusBody([property: JsonPropertyName("status")] string Status);


/// <summary>The mint event's error: <c>code</c> is MINT_FAILED on a failed request, null with a pending request's notice.</summary>
internal sealed record MintEventError(
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("message")] string? Message);

/// <summary><c>imtbl_zkevm_mint_request_updated</c>'s data (docs/api.md section 4); <c>amount</c> is a JSON number on ERC1155.</summary>
internal sealed record MintEventData(
    [property: JsonPropertyName("chain")] ChainRef Chain,
    [property: JsonPropertyName("contract_address")] string ContractAddress,
    [property: JsonPropertyName("owner_address")] string OwnerAddress,
    [property: JsonPropertyName("reference_id")] string ReferenceId,
    [property: JsonPropertyName("metadata_id")] string MetadataId,
    [property: JsonPropertyName("token_id")] string? TokenId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("transaction_hash")] string? TransactionHash,
    [property: JsonPropertyName("activity_id")] string? ActivityId,
    [property: JsonPropertyName("error")] MintEventError? Error,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("updated_at")] string UpdatedAt,
    [property: JsonPropertyName("amount")] decimal? Amount);

/// <summary>One event, exactly as a webhook delivers it.</summary>
internal sealed record EventBody(
    [property: JsonPropertyName("event_name")] string EventName,
    [property: JsonPropertyName("event_id")] string EventId,
    [property: JsonPropertyName("chain")] string Chain,
    [property: JsonPropertyName("data")] MintEventData Data);

internal sealed record EventsFeedCursor([property: JsonPropertyName("next_cursor")] string? NextCursor);

/// <summary><c>GET /v1/events</c>: the project's events oldest first, and where to resume.</summary>
internal sealed record EventsFeedPage(
    [property: JsonPropertyName("result")] IReadOnlyList<EventBody> Result,
    [property: JsonPropertyName("page")] EventsFeedCursor Page);
