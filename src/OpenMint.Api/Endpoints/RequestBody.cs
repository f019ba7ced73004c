using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using OpenMint.Core;
using OpenMint.Core.Minting;

namespace OpenMint.Api.Endpoints;

/// <summary>Reads a request body with a size cap (<see cref="CappedReader"/>), turning every transport-level problem into a 400.</summary>
internal static class RequestBody
{
    /// <summary>
    /// Bodies over the cap are still read (and dropped) up to this size before answering: a client that is
    /// still sending would otherwise see a reset connection instead of the 400.
    /// </summary>
    public const long DrainLimit = 64L * 1024 * 1024;

    /// <remarks>A ValueTask: the body of a small request has usually arrived with its headers, and then no task is allocated.</remarks>
    public static async ValueTask<Checked<PooledBytes>> ReadAsync(HttpRequest request, int cap, CancellationToken ct)
    {
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = DrainLimit;
        }
        if (request.ContentLength > DrainLimit)
        {
            return TooLarge(cap);
        }
        try
        {
            var read = await CappedReader.ReadAsync(request.Body, cap, request.ContentLength ?? 16 * 1024, ct).ConfigureAwait(false);
            if (read.Complete)
            {
                return read;
            }
            read.Dispose();
            await DrainAsync(request.Body, ct).ConfigureAwait(false);
            return TooLarge(cap);
        }
        catch (BadHttpRequestException ex)
        {
            return ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge(cap) : ApiErrors.ValidationError($"request body could not be read: {ex.Message}");
        }
    }

    private static ApiError TooLarge(int cap) => ApiErrors.ValidationError(
        $"request body is larger than {cap} bytes; send at most {MintRequestParser.MaxAssets} assets with metadata of at most {MintRequestParser.MaxMetadataBytes} bytes each");

    private static async Task DrainAsync(Stream body, CancellationToken ct)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (await body.ReadAsync(scratch, ct).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
