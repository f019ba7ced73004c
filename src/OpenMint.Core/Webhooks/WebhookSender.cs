using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using OpenMint.Core.Net;

namespace OpenMint.Core.Webhooks;

/// <summary>
/// Sends one delivery attempt: <c>POST</c> of the event JSON with the standard-webhooks headers, through the SSRF guard,
/// redirects not followed, <see cref="WebhookOptions.AttemptTimeout"/> per attempt; classifies the answer.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _http;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;

    public WebhookSender(WebhookOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        var guard = new AddressGuard(options.AddressPolicy());
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = guard.ConnectAsync,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            UseCookies = false,
            UseProxy = false,
        }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<DeliveryOutcome> SendAsync(WebhookEndpoint endpoint, WebhookDelivery delivery, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.TryAddWithoutValidation("webhook-id", delivery.EventId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSecrets.Signature(endpoint.SigningSecrets(now), delivery.EventId, now, delivery.Payload));
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attempt.CancelAfter(_options.AttemptTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token).ConfigureAwait(false);
            return Classify(response, delivery);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return RetryOrFail(delivery, null, $"no answer within {_options.AttemptTimeout.TotalSeconds:0.#} s", null);
        }
        catch (HttpRequestException ex) when (FindRefusal(ex) is { } refused)
        {
            return new DeliveryOutcome.Failed(null, refused.Message, DisableEndpoint: false);
        }
        catch (HttpRequestException ex)
        {
            return RetryOrFail(delivery, null, "connection error: " + ex.Message, null);
        }
    }

    private DeliveryOutcome Classify(HttpResponseMessage response, WebhookDelivery delivery)
    {
        var code = (int)response.StatusCode;
        if (code is >= 200 and < 300)
        {
            return new DeliveryOutcome.Delivered(code);
        }
        if (response.StatusCode == HttpStatusCode.Gone)
        {
            return new DeliveryOutcome.Failed(code, "410 Gone: the endpoint is disabled", DisableEndpoint: true);
        }
        if (code is 408 or 429 or >= 500)
        {
            return RetryOrFail(delivery, code, $"HTTP {code}", RetryAfter(response));
        }
        if (code is >= 300 and < 400)
        {
            return new DeliveryOutcome.Failed(code, $"HTTP {code}: redirects are not followed (location {response.Headers.Location})", DisableEndpoint: false);
        }
        return new DeliveryOutcome.Failed(code, $"HTTP {code}", DisableEndpoint: false);
    }

    private DeliveryOutcome RetryOrFail(WebhookDelivery delivery, int? code, string error, TimeSpan? retryAfter)
    {
        var now = _time.GetUtcNow();
        return RetrySchedule.Next(_options, delivery.Attempts, delivery.QueuedAt, now, retryAfter, Random.Shared.NextDouble()) is { } at
            ? new DeliveryOutcome.Retry(at, code, error)
            : new DeliveryOutcome.Failed(code, $"{error} (retried for {_options.RetryHorizon.TotalHours:0.##} h, {delivery.Attempts} attempts)", DisableEndpoint: false);
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }
        return header?.Date is { } date ? date - _time.GetUtcNow() : null;
    }

    private static AddressRefusedException? FindRefusal(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is AddressRefusedException refused)
            {
                return refused;
            }
        }
        return null;
    }

    public void Dispose() => _http.Dispose();
}
