using OpenMint.Core.Minting;
using OpenMint.Core.Webhooks;

namespace OpenMint.Core.Events;

/// <summary>One row of the event log with its payload (the webhook body and the feed's element).</summary>
/// <param name="Seq">Delivery order.</param>
/// <param name="EventName">One of <see cref="WebhookEvents"/>.</param>
/// <param name="SubjectId">What the event is about: the mint request's id, or the refresh's seq.</param>
/// <param name="Status">The status a mint request event records; null for other events.</param>
public sealed record EventRecord(long Seq, Guid EventId, string ProjectId, string EventName, long SubjectId, MintStatus? Status, string Payload, DateTimeOffset CreatedAt)
{
    /// <summary>The mint request of a mint request event (<see cref="SubjectId"/>).</summary>
    public long MintRequestId => SubjectId;

    /// <summary>Events with the same key reach an endpoint in <see cref="Seq"/> order (those of one mint request, or one refresh).</summary>
    public string OrderingKey => (EventName == WebhookEvents.MintRequestUpdated ? "mint:" : "refresh:") + SubjectId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
