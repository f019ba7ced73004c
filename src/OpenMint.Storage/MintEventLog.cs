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
