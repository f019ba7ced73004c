using Microsoft.Extensions.Logging;

namespace OpenMint.Core.Refresh;

internal static partial class RefreshLog
{
    public const int WorkerStarted = 5001;
    public const int WorkerFailed = 5002;
    public const int RefreshStarted = 5003;
    public const int RefreshStartFailed = 5004;
    public const int WriteFailed = 5005;
    public const int TokenFailed = 5006;
    public const int WorkerStopped = 5007;
    public const int FetchCrashed = 5008;

    [LoggerMessage(WorkerStarted, LogLevel.Information, "Metadata refresh worker {Owner} started (concurrency {Concurrency}, {PerOrigin} per origin)")]
    public static partial void Started(ILogger logger, string owner, int concurrency, int perOrigin);

    [LoggerMessage(WorkerFailed, LogLevel.Error, "Metadata refresh worker iteration failed; retrying in {Delay}")]
    public static partial void IterationFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(RefreshStarted, LogLevel.Information, "Refresh {RefreshId} started with base URI {BaseUri}")]
    public static partial void RefreshBegan(ILogger logger, Guid refreshId, string baseUri);

    [LoggerMessage(RefreshStartFailed, LogLevel.Warning, "Refresh {RefreshId}: base URI unavailable, its tokens fail: {Reason}")]
    public static partial void BaseUriUnavailable(ILogger logger, Guid refreshId, string reason);

    [LoggerMessage(WriteFailed, LogLevel.Error, "Writing {Count} refresh outcomes failed; retrying in {Delay}")]
    public static partial void WriteFailedRetrying(ILogger logger, Exception exception, int count, TimeSpan delay);

    [LoggerMessage(TokenFailed, LogLevel.Debug, "Token {TokenId} from {Url}: {ErrorCode} (status {StatusCode})")]
    public static partial void TokenFetchFailed(ILogger logger, string tokenId, string url, string? errorCode, int? statusCode);

    [LoggerMessage(WorkerStopped, LogLevel.Information, "Metadata refresh worker {Owner} stopped; unfinished claims released")]
    public static partial void Stopped(ILogger logger, string owner);

    [LoggerMessage(FetchCrashed, LogLevel.Error, "Fetching token {TokenId} threw; recorded as unable_to_retrieve_metadata")]
    public static partial void FetchThrew(ILogger logger, Exception exception, string tokenId);
}
