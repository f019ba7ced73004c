using System.Security.Cryptography;
using StandardWebhooks;

namespace OpenMint.Core.Webhooks;

/// <summary>Endpoint secrets and the standard-webhooks signature (signed with the StandardWebhooks library).</summary>
public static class WebhookSecrets
{
    /// <summary>A fresh <c>whsec_</c> secret: base64 of 32 random bytes.</summary>
    public static string New() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The <c>webhook-signature</c> value: one <c>v1,&lt;base64&gt;</c> entry per secret, space-separated (two while a
    /// rotated-out secret still signs).
    /// </summary>
    public static string Signature(IReadOnlyList<string> secrets, string webhookId, DateTimeOffset timestamp, string body) =>
        string.Join(' ', secrets.Select(s => new StandardWebhook(s).Sign(webhookId, timestamp, body)));
}
