using System.Data.Common;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage;

/// <summary>
/// Appends to <c>mint_event</c>. Call it inside the same store transaction that changes the
/// request's status, so the log and the state can never disagree.
/// </summary>
public static class MintEventLog
{
    public static Task AppendAsync(DbConnection connection, DbTransaction tx, MintRequestRecord request, Collection collection, ChainConfig chain, TimeProvider time, CancellationToken ct)
    {
        var eventId = UuidV7.New(time);
        return connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO mint_event (event_id, project_id, mint_request_id, status, payload, created_at)
            VALUES (@eventId, @projectId, @requestId, @status, @payload, @createdAt)
            """,
            new
            {
                eventId = eventId.ToString(),
                projectId = request.ProjectId,
                requestId = request.Id,
                status = request.Status.ToWire(),
                payload = MintEvents.Payload(eventId, request, collection, chain),
                createdAt = Time.ToWire(time.GetUtcNow()),
            }, tx, cancellationToken: ct));
    }
}

/// <summary>
/// <see cref="MintEventLog.AppendAsync"/> for many rows in one transaction: the same rows, written through one
/// prepared statement (intake appends one event per accepted asset; re-preparing per row dominated its cost).
/// </summary>
public sealed class MintEventAppender : IAsyncDisposable
{
    private readonly DbCommand _command;
    private readonly DbParameter[] _p;
    private readonly TimeProvider _time;

    public MintEventAppender(DbConnection connection, DbTransaction tx, TimeProvider time)
    {
        _time = time;
        _command = connection.CreateCommand();
        _command.Transaction = tx;
        _command.CommandText =
            "INSERT INTO mint_event (event_id, project_id, mint_request_id, status, payload, created_at) VALUES (@eventId, @projectId, @requestId, @status, @payload, @createdAt)";
        _p = new[] { "@eventId", "@projectId", "@requestId", "@status", "@payload", "@createdAt" }.Select(name =>
        {
            var p = _command.CreateParameter();
            p.ParameterName = name;
            _command.Parameters.Add(p);
            return p;
        }).ToArray();
    }

    public Task AppendAsync(MintRequestRecord request, Collection collection, ChainConfig chain, CancellationToken ct)
    {
        var eventId = UuidV7.New(_time);
        _p[0].Value = eventId.ToString();
        _p[1].Value = request.ProjectId;
        _p[2].Value = request.Id;
        _p[3].Value = request.Status.ToWire();
        _p[4].Value = MintEvents.Payload(eventId, request, collection, chain);
        _p[5].Value = Time.ToWire(_time.GetUtcNow());
        return _command.ExecuteNonQueryAsync(ct);
    }

    public ValueTask DisposeAsync() => _command.DisposeAsync();
}
