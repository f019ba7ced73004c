using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OpenMint.Api;

/// <summary>
/// The two error shapes of API.md, built in one place. Minting/assets:
/// <c>{code, message, details, link, trace_id}</c>; metadata refresh: <c>{code, message, details}</c>.
/// </summary>
public static class ApiErrors
{
    public const string Link = "https://docs.immutable.com/api/zkEVM/mint-requests";

    public static ApiError Mint(int status, string code, string message, object? details = null) =>
        new(status, new JsonObject
        {
            ["code"] = code,
            ["message"] = message,
            ["details"] = details is null ? null : JsonSerializer.SerializeToNode(details),
            ["link"] = Link,
            ["trace_id"] = Activity.Current?.TraceId.ToString() ?? Guid.NewGuid().ToString("N"),
        });

    public static ApiError Refresh(int status, string code, string message, string? details = null) =>
        new(status, new JsonObject { ["code"] = code, ["message"] = message, ["details"] = details });

    public static ApiError ValidationError(string message) => Mint(400, "VALIDATION_ERROR", message);
    public static ApiError NotFound(string message) => Mint(404, "RESOURCE_NOT_FOUND", message);
    public static ApiError Unauthorised() => Mint(401, "UNAUTHORISED_REQUEST", "security requirements failed: API key is invalid");

    private static bool IsRefreshPath(PathString path) => path.StartsWithSegments("/v1/metadata-refreshes");

    /// <summary>Anything that escapes a handler still leaves in the contract's shape, never as an HTML page.</summary>
    public static void UseApiErrors(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
            {
                var status = ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? 413 : 400;
                var message = status == 413 ? "request body is too large" : $"bad request: {ex.Message}";
                await Write(context, status, status == 413 ? "PAYLOAD_TOO_LARGE" : "VALIDATION_ERROR", message).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away; nothing to answer.
            }
            catch (Exception ex) when (!context.Response.HasStarted)
            {
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("OpenMint.Api").LogError(ex, "Unhandled error on {Path}", context.Request.Path);
                await Write(context, 500, "INTERNAL_SERVER_ERROR", "internal server error").ConfigureAwait(false);
            }
        });
        app.Use(async (context, next) =>
        {
            await next(context).ConfigureAwait(false);
            // Routing misses (unknown path or method) also answer in the contract's shape.
            if (!context.Response.HasStarted && context.Response.ContentLength is null && context.Response.ContentType is null
                && context.Response.StatusCode is 404 or 405)
            {
                await Write(context, context.Response.StatusCode, context.Response.StatusCode == 404 ? "RESOURCE_NOT_FOUND" : "METHOD_NOT_ALLOWED",
                    context.Response.StatusCode == 404 ? "resource not found" : "method not allowed").ConfigureAwait(false);
            }
        });
    }

    private static Task Write(HttpContext context, int status, string code, string message)
    {
        var result = IsRefreshPath(context.Request.Path)
            ? Refresh(status, status == 500 ? "internal_server_error" : code.ToLowerInvariant(), message)
            : Mint(status, code, message);
        return result.ExecuteAsync(context);
    }
}
