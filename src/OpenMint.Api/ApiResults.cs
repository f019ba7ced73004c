using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OpenMint.Api;

/// <summary>
/// An error answer in the contract's wire shape (built by <see cref="ApiErrors"/>, the one place that maps
/// errors to the wire): the error member of every handler's <c>Results&lt;...&gt;</c> union.
/// </summary>
public sealed class ApiError(int statusCode, JsonObject body) : IResult, IStatusCodeHttpResult, IValueHttpResult<JsonObject>, IValueHttpResult
{
    public int StatusCode => statusCode;

    public JsonObject Value => body;

    int? IStatusCodeHttpResult.StatusCode => statusCode;

    object? IValueHttpResult.Value => body;

    public Task ExecuteAsync(HttpContext httpContext) => TypedResults.Json(body, statusCode: statusCode).ExecuteAsync(httpContext);
}

/// <summary>A value a handler needs (a resolved tenancy, a read body, a page position), or the error answer that refuses the request.</summary>
internal readonly struct Checked<T>
{
    private readonly T? _value;
    private readonly ApiError? _error;

    private Checked(T? value, ApiError? error)
    {
        _value = value;
        _error = error;
    }

    public static implicit operator Checked<T>(T value) => new(value, null);

    public static implicit operator Checked<T>(ApiError error) => new(default, error);

    public bool TryGet([MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out ApiError? error)
    {
        value = _value;
        error = _error;
        return error is null;
    }
}

/// <summary>
/// A JSON answer written with a <see cref="Utf8JsonWriter"/> straight into one buffer and then to the response, for the
/// hand-written shapes on hot or large paths (no serializer, no intermediate tree). Subclasses write only the body.
/// </summary>
public abstract class Utf8JsonResult(int statusCode, int initialBufferSize) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public int? StatusCode => statusCode;

    public string ContentType => "application/json; charset=utf-8";

    protected abstract void WriteBody(Utf8JsonWriter writer);

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = ContentType;
        var buffer = new ArrayBufferWriter<byte>(initialBufferSize);
        using (var w = new Utf8JsonWriter(buffer))
        {
            WriteBody(w);
        }
        httpContext.Response.ContentLength = buffer.WrittenCount;
        return httpContext.Response.Body.WriteAsync(buffer.WrittenMemory, httpContext.RequestAborted).AsTask();
    }
}
