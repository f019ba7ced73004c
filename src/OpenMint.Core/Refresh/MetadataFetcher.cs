using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenMint.Core.Net;

namespace OpenMint.Core.Refresh;

/// <summary>How fetching one metadata URL ended. On success <paramref name="Metadata"/> is the JSON object text.</summary>
public sealed record FetchResult(bool Succeeded, int? StatusCode, string? Body, string? ErrorCode, string? Metadata)
{
    public static FetchResult Ok(string metadata) => new(true, 200, null, null, metadata);
    public static FetchResult Fail(string code, int? status, string? body) => new(false, status, body, code, null);
}

/// <summary>
/// Fetches token metadata: one <see cref="SocketsHttpHandler"/> whose connect step is the SSRF guard, at most
/// <c>Refresh:MaxConcurrencyPerOrigin</c> connections per server, a deadline per attempt, retries only on 429/503,
/// capped reads. How many fetches run per origin is the caller's <see cref="OriginScheduler"/>'s business: a token
/// keeps its origin slot through its retries' backoff, so an origin that asks to slow down gets fewer requests.
/// </summary>
public sealed class MetadataFetcher : IDisposable
{
    private readonly RefreshOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;

    public MetadataFetcher(RefreshOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        var guard = new AddressGuard(options.AddressPolicy());
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = guard.ConnectAsync,
            // Redirects are followed by hand so each hop's scheme is checked; the guard sees each hop's IP.
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = options.MaxConcurrencyPerOrigin,
            ConnectTimeout = options.AttemptTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxResponseHeadersLength = 64, // KiB
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("OpenMint-MetadataRefresh", "1.0"));
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    public async Task<FetchResult> FetchAsync(string url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return FetchResult.Fail(RefreshErrorCodes.UnableToRetrieveMetadata, null, "not an http(s) URL");
        }
        for (var attempt = 0; ; attempt++)
        {
            var result = await AttemptAsync(uri, ct).ConfigureAwait(false);
            if (result.RetryAfter is null || attempt >= _options.MaxRetries)
            {
                return result.Result;
            }
            await Task.Delay(Backoff(attempt, result.RetryAfter.Value), _time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Retry-After when given (capped), else base × 2^attempt plus up to 50% jitter.</summary>
    private TimeSpan Backoff(int attempt, TimeSpan retryAfter)
    {
        if (retryAfter > TimeSpan.Zero)
        {
            return retryAfter > _options.RetryAfterCap ? _options.RetryAfterCap : retryAfter;
        }
        var delay = _options.RetryBaseDelay * Math.Pow(2, attempt);
        return delay + delay * (Random.Shared.NextDouble() * 0.5);
    }

    /// <param name="RetryAfter">Set when the answer was 429/503: the server's Retry-After, or zero for plain backoff.</param>
    private sealed record Attempt(FetchResult Result, TimeSpan? RetryAfter = null);

    private async Task<Attempt> AttemptAsync(Uri uri, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_options.AttemptTimeout);
        int? status = null;
        try
        {
            var (response, refused) = await FollowRedirectsAsync(uri, deadline.Token).ConfigureAwait(false);
            if (response is null)
            {
                return refused!;
            }
            using (response)
            {
                status = (int)response.StatusCode;
                return await ReadAnswerAsync(response, status.Value, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new(FetchResult.Fail(RefreshErrorCodes.UnableToRetrieveMetadata, status,
                $"no complete response within {_options.AttemptTimeout.TotalSeconds:0.###} s"));
        }
        catch (HttpRequestException ex)
        {
            return new(FetchResult.Fail(RefreshErrorCodes.UnableToRetrieveMetadata, status, Describe(ex)));
        }
        catch (IOException ex)
        {
            return new(FetchResult.Fail(RefreshErrorCodes.UnableToRetrieveMetadata, status, Describe(ex)));
        }
    }

    /// <summary>The first non-redirect answer (headers read), or why the redirect chain was refused.</summary>
    private async Task<(HttpResponseMessage? Response, Attempt? Refused)> FollowRedirectsAsync(Uri uri, CancellationToken ct)
    {
        var current = uri;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (code is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is not { } location)
            {
                return (response, null);
            }
            response.Dispose();
            var next = location.IsAbsoluteUri ? location : new Uri(current, location);
            if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
            {
                return (null, new(FetchResult.Fail(RefreshErrorCodes.UnableToRetrieveMetadata, code, $"redirect to a non-http(s) URL: {next.Scheme}:")));
            }
            if (hop >= _options.MaxRedirects)
            {
                return (null, new(FetchResult.Fail(RefreshErrorCodes.UnableToRetrieveMetadata, code, $"more than {_options.MaxRedirects} redirects")));
            }
            current = next;
        }
    }

    /// <summary>Classifies an answer: retryable status, other non-200, not JSON, too large, not an object, or the metadata.</summary>
    private async Task<Attempt> ReadAnswerAsync(HttpResponseMessage response, int status, CancellationToken ct)
    {
        if (status is 429 or 503)
        {
            var retryAfter = RetryAfter(response);
            return new(FetchResult.Fail(RefreshErrorCodes.InvalidResponseStatusCode, status, await ReadCappedTextAsync(response, ct).ConfigureAwait(false)), retryAfter);
        }
        if (status != 200)
        {
            return new(FetchResult.Fail(RefreshErrorCodes.InvalidResponseStatusCode, status, await ReadCappedTextAsync(response, ct).ConfigureAwait(false)));
        }
        if (!IsJsonMediaType(response.Content.Headers.ContentType?.MediaType) || response.Content.Headers.ContentLength > _options.MaxBodyBytes)
        {
            return new(FetchResult.Fail(RefreshErrorCodes.UnableToDecodeResponse, status, await ReadCappedTextAsync(response, ct).ConfigureAwait(false)));
        }
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var read = await CappedReader.ReadAsync(stream, _options.MaxBodyBytes, 16 * 1024, ct).ConfigureAwait(false);
        if (!read.Complete)
        {
            return new(FetchResult.Fail(RefreshErrorCodes.UnableToDecodeResponse, status, Capped(read)));
        }
        try
        {
            using var doc = JsonDocument.Parse(read.Memory);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                ? new(FetchResult.Ok(doc.RootElement.GetRawText()))
                : new(FetchResult.Fail(RefreshErrorCodes.UnableToDecodeResponse, status, Capped(read)));
        }
        catch (JsonException)
        {
            return new(FetchResult.Fail(RefreshErrorCodes.UnableToDecodeResponse, status, Capped(read)));
        }
    }

    internal static bool IsJsonMediaType(string? mediaType) =>
        mediaType is not null
        && (mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)));

    private TimeSpan RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta > TimeSpan.Zero ? delta : TimeSpan.Zero;
        }
        if (header?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return TimeSpan.Zero;
    }

    private static string Describe(Exception ex)
    {
        // The innermost message names the cause (refused address, DNS, connection refused); keep it short.
        var inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }
        var message = inner == ex ? ex.Message : $"{ex.Message} ({inner.Message})";
        return Texts.Cut(message, 512);
    }

    private async Task<string?> ReadCappedTextAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (_options.StoredBodyBytes == 0)
        {
            return null;
        }
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            using var read = await CappedReader.ReadAsync(stream, _options.StoredBodyBytes, 16 * 1024, ct).ConfigureAwait(false);
            return Capped(read);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            return null; // the status is the finding; a body that does not arrive is not
        }
    }

    private string Capped(PooledBytes read) => Encoding.UTF8.GetString(read.Buffer, 0, Math.Min(read.Length, _options.StoredBodyBytes));

    public void Dispose() => _http.Dispose();
}
