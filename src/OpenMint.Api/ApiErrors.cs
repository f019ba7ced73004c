using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OpenMint.Api;

/// <summary>
/// The two error shapes of docs/api.md, built in one place. Minting/assets:
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
    /// <param name="reason">Why, in <c>details.reason</c> (the message stays Immutable's for wire compatibility).</param>
    public static ApiError Unauthorised(string? reason = null) =>
        Mint(401, "UNAUTHORISED_REQUEST", "security requirements failed: API key is invalid", reason is null ? null : new { reason });

    /// <summary>Immutable's answer for a collection that is not sponsored; in OpenMint it means the operator disabled minting.</summary>
    public static ApiError NotSponsored(string chain, string address) =>
        Mint(403, "AUTHENTICATION_ERROR", "API Key is not sponsored", new
        {
            reason = "minting is disabled for this collection in OpenMint; the operator enables it with: "
                + $"openmint collection update --chain {chain} --address {address} --minting-enabled true",
        });

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
                var (status, code, message) = ex.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => (413, "PAYLOAD_TOO_LARGE", "request body is too large"),
                    StatusCodes.Status408RequestTimeout => (408, "REQUEST_TIMEOUT", "request timeout: the request body did not arrive in time"),
                    _ => (400, "VALIDATION_ERROR", $"bad request: {ex.Message}"),
                };
                await Write(context, status, code, message).ConfigureAwait(false);
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
            if (!context.Response.HasStarted && context.Response.ContentLength is null && context.Response.ContentType is null)
            {
                await WriteRoutingMissAsync(context).ConfigureAwait(false);
            }
        });
    }

    /// <summary>
    /// Routing misses (unknown path or method) also answer in the contract's shape. A method the route does not
    /// take is a 405 with <c>Allow</c> only where the path can name a resource: <c>POST …/nfts/mint-request</c>
    /// matches the asset route's shape, but "mint-request" is no token id, so there is nothing to allow: 404.
    /// </summary>
    private static Task WriteRoutingMissAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        if (status == 405 && !CanNameResource(context.Request.Path))
        {
            context.Response.StatusCode = status = 404;
            context.Response.Headers.Remove("Allow");
        }
        return status switch
        {
            404 => Write(context, 404, "RESOURCE_NOT_FOUND", "resource not found"),
            405 => Write(context, 405, "METHOD_NOT_ALLOWED", "method not allowed"),
            _ => Task.CompletedTask,
        };
    }

    /// <summary>False for <c>/v1/chains/{chain}/collections/{address}/nfts/{x}</c> when x is not a uint256 token id.</summary>
    private static bool CanNameResource(PathString path)
    {
        var segments = (path.Value ?? "").Trim('/').Split('/');
        return !(segments.Length == 7 && segments[0] == "v1" && segments[1] == "chains" && segments[3] == "collections" && segments[5] == "nfts"
            && !OpenMint.Chain.Uint256.IsValid(segments[6]));
    }

    private static Task Write(HttpContext context, int status, string code, string message)
    {
        var result = IsRefreshPath(context.Request.Path)
            ? Refresh(status, status == 500 ? "internal_server_error" : code.ToLowerInvariant(), message)
            : Mint(status, code, message);
        return result.ExecuteAsync(context);
    }
}
