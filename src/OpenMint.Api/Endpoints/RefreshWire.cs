using System.Text.Json.Serialization;
using OpenMint.Core;
using OpenMint.Core.Refresh;

namespace OpenMint.Api.Endpoints;

/// <summary>The 202 of a created refresh.</summary>
internal sealed record RefreshCreated([property: JsonPropertyName("refresh_id")] string RefreshId);

internal sealed record RefreshSummary(
    [property: JsonPropertyName("succeeded")] int Succeeded,
    [property: JsonPropertyName("failed")] int Failed,
    [property: JsonPropertyName("pending")] int Pending);

/// <summary>One refresh, as GET /v1/metadata-refreshes/{id} answers it.</summary>
internal sealed record RefreshView(
    [property: JsonPropertyName("refresh_id")] string RefreshId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("collection_address")] string CollectionAddress,
    [property: JsonPropertyName("started_at")] string? StartedAt,
    [property: JsonPropertyName("completed_at")] string? CompletedAt,
    [property: JsonPropertyName("summary")] RefreshSummary Summary)
{
    public static RefreshView From(RefreshJob job) => new(
        job.RefreshId.ToString("D"), RefreshWire.StatusName(job.Status), job.CollectionAddress,
        RefreshWire.Time(job.StartedAt), RefreshWire.Time(job.CompletedAt), new RefreshSummary(job.Succeeded, job.Failed, job.Pending));
}

/// <summary>One refresh in the list (no summary).</summary>
internal sealed record RefreshListItem(
    [property: JsonPropertyName("refresh_id")] string RefreshId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("collection_address")] string CollectionAddress,
    [property: JsonPropertyName("started_at")] string? StartedAt,
    [property: JsonPropertyName("completed_at")] string? CompletedAt)
{
    public static RefreshListItem From(RefreshJob job) => new(
        job.RefreshId.ToString("D"), RefreshWire.StatusName(job.Status), job.CollectionAddress, RefreshWire.Time(job.StartedAt), RefreshWire.Time(job.CompletedAt));
}

/// <summary>One failed token on a refresh's errors page.</summary>
internal sealed record RefreshErrorView(
    [property: JsonPropertyName("token_id")] string TokenId,
    [property: JsonPropertyName("collection_address")] string CollectionAddress,
    [property: JsonPropertyName("client_token_metadata_url")] string Url,
    [property: JsonPropertyName("client_response_status_code")] int? StatusCode,
    [property: JsonPropertyName("client_response_body")] string? Body,
    [property: JsonPropertyName("error_code")] string ErrorCode,
    [property: JsonPropertyName("created_at")] string CreatedAt)
{
    public static RefreshErrorView From(RefreshErrorItem e) =>
        new(e.TokenId, e.CollectionAddress, e.Url, e.StatusCode, e.Body, e.ErrorCode, Core.Time.ToWire(e.CreatedAt));
}

/// <summary>The list shape of both list endpoints: items, the cursor to continue from, and whether more remain (1/0).</summary>
internal sealed record RefreshListPage<T>(
    [property: JsonPropertyName("result")] IReadOnlyList<T> Result,
    [property: JsonPropertyName("cursor")] string Cursor,
    [property: JsonPropertyName("remaining")] int Remaining);

internal static class RefreshWire
{
    public static string StatusName(RefreshStatus status) => status switch
    {
        RefreshStatus.Queued => "queued",
        RefreshStatus.InProgress => "in_progress",
        _ => "completed",
    };

    public static string? Time(DateTimeOffset? value) => value is null ? null : Core.Time.ToWire(value.Value);
}
