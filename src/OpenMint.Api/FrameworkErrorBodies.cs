using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace OpenMint.Api;

/// <summary>
/// Kestrel answers requests it cannot parse (malformed request line or headers: 400, URI too long: 414, headers too
/// large: 431, headers too slow: 408, declared body too large: 413) itself, before any middleware runs, with an empty
/// body. This connection middleware gives those answers the contract's JSON error body: it watches what Kestrel
/// commits to the connection and, when a committed block is exactly such a head (one of these statuses,
/// <c>Content-Length: 0</c>, <c>Connection: close</c>), writes the same head with a JSON body instead. Everything else
/// passes through untouched; the check is a few byte compares per committed block.
/// </summary>
internal static class FrameworkErrorBodies
{
    public static void UseFrameworkErrorBodies(this ListenOptions listen) =>
        listen.Use(next => context =>
        {
            context.Transport = new DuplexPipe(context.Transport);
            return next(context);
        });

    private sealed class DuplexPipe(IDuplexPipe inner) : IDuplexPipe
    {
        public PipeReader Input => inner.Input;
        public PipeWriter Output { get; } = new Writer(inner.Output);
    }

    private sealed class Writer(PipeWriter inner) : PipeWriter
    {
        private Memory<byte> _last;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _last = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => (_last = inner.GetMemory(sizeHint)).Span;

        public override void Advance(int bytes)
        {
            if (bytes is > 24 and < 1024 && bytes <= _last.Length && Rewrite(_last.Span[..bytes]) is { } replacement)
            {
                replacement.CopyTo(inner.GetSpan(replacement.Length));
                inner.Advance(replacement.Length);
                return;
            }
            inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);
        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        public override void Complete(Exception? exception = null) => inner.Complete(exception);
        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;
        public override long UnflushedBytes => inner.UnflushedBytes;
    }

    private static ReadOnlySpan<byte> EmptyBody => "\r\nContent-Length: 0\r\n"u8;

    /// <summary>The head with a JSON body, or null when <paramref name="written"/> is anything else.</summary>
    private static byte[]? Rewrite(ReadOnlySpan<byte> written)
    {
        if (!written.StartsWith("HTTP/1.1 4"u8) || !written.EndsWith("\r\n\r\n"u8) || written.IndexOf("\r\nConnection: close\r\n"u8) < 0)
        {
            return null;
        }
        var at = written.IndexOf(EmptyBody);
        if (at < 0)
        {
            return null;
        }
        var (code, message) = (written[10], written[11]) switch
        {
            ((byte)'0', (byte)'0') => ("VALIDATION_ERROR", "bad request: the request line or headers are malformed"),
            ((byte)'0', (byte)'8') => ("REQUEST_TIMEOUT", "request timeout: the request did not arrive in time"),
            ((byte)'1', (byte)'3') => ("PAYLOAD_TOO_LARGE", "request body is too large"),
            ((byte)'1', (byte)'4') => ("URI_TOO_LONG", "request URI is too long"),
            ((byte)'3', (byte)'1') => ("REQUEST_HEADER_FIELDS_TOO_LARGE", "request headers are too large"),
            _ => (null, null),
        };
        if (code is null || written[12] != (byte)' ')
        {
            return null;
        }
        var body = Encoding.UTF8.GetBytes(
            $$"""{"code":"{{code}}","message":"{{message}}","details":null,"link":"{{ApiErrors.Link}}","trace_id":"{{Activity.Current?.TraceId.ToString() ?? Guid.NewGuid().ToString("N")}}"}""");
        var lengthHeader = Encoding.ASCII.GetBytes($"\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {body.Length}\r\n");
        return [.. written[..at], .. lengthHeader, .. written[(at + EmptyBody.Length)..], .. body];
    }
}
