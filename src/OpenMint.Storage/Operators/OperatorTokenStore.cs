using System.Buffers.Text;
using System.Security.Cryptography;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Operators;

/// <summary>An operator token as stored: never the token itself.</summary>
public sealed record OperatorToken(string Id, string? Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>A new operator token: <paramref name="Secret"/> is shown once, only its hash is kept.</summary>
public sealed record IssuedOperatorToken(OperatorToken Token, string Secret);

/// <summary>
/// Operator tokens, the dashboard's sign-in (<c>openmint admin token create|revoke|list</c>). Kept like API keys
/// (<see cref="ApiKeySecrets"/>): a clear prefix to find candidates, the SHA-256 compared in constant time.
/// One SQL for both dialects.
/// </summary>
public sealed class OperatorTokenStore(Database db, TimeProvider time)
{
    /// <summary>Every token starts with it, so a leaked one is recognisable in logs and scanners.</summary>
    public const string SecretPrefix = "om_op_";

    private const string Columns = "id AS Id, name AS Name, prefix AS Prefix, created_at AS CreatedAt, revoked_at AS RevokedAt";

    public async Task<IssuedOperatorToken> CreateAsync(string? name, CancellationToken ct)
    {
        var secret = SecretPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var token = new OperatorToken(UuidV7.New(time).ToString(), string.IsNullOrWhiteSpace(name) ? null : name.Trim(), ApiKeySecrets.Prefix(secret)!, time.GetUtcNow(), null);
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO operator_token (id, name, prefix, token_hash, created_at, revoked_at) VALUES (@Id, @Name, @Prefix, @hash, @created, NULL)",
            new { token.Id, token.Name, token.Prefix, hash = ApiKeySecrets.Hash(secret), created = Time.ToWire(token.CreatedAt) }, cancellationToken: ct)).ConfigureAwait(false);
        return new IssuedOperatorToken(token, secret);
    }

    /// <summary>The active token <paramref name="secret"/> is; null when it is unknown or revoked.</summary>
    public async Task<OperatorToken?> AuthenticateAsync(string secret, CancellationToken ct)
    {
        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal) || ApiKeySecrets.Prefix(secret) is not { } prefix)
        {
            return null;
        }
        var hash = ApiKeySecrets.Hash(secret);
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<HashRow>(new CommandDefinition(
            $"SELECT {Columns}, token_hash AS TokenHash FROM operator_token WHERE prefix = @prefix AND revoked_at IS NULL",
            new { prefix }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.FirstOrDefault(r => CryptographicOperations.FixedTimeEquals(r.TokenHash, hash))?.ToModel();
    }

    /// <summary>True while the token with this id exists and is not revoked (a signed-in session checks it).</summary>
    public async Task<bool> IsActiveAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        return await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM operator_token WHERE id = @id AND revoked_at IS NULL", new { id }, cancellationToken: ct)).ConfigureAwait(false) > 0;
    }

    /// <summary>False when no active token has this id.</summary>
    public async Task<bool> RevokeAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        return await c.ExecuteAsync(new CommandDefinition(
            "UPDATE operator_token SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL",
            new { id, now = Time.ToWire(time.GetUtcNow()) }, cancellationToken: ct)).ConfigureAwait(false) > 0;
    }

    public async Task<IReadOnlyList<OperatorToken>> ListAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<Row>(new CommandDefinition($"SELECT {Columns} FROM operator_token ORDER BY created_at, id", cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).ToList();
    }

    private class Row
    {
        public string Id { get; set; } = "";
        public string? Name { get; set; }
        public string Prefix { get; set; } = "";
        public string CreatedAt { get; set; } = "";
        public string? RevokedAt { get; set; }

        public OperatorToken ToModel() => new(Id, Name, Prefix, Time.FromWire(CreatedAt), RevokedAt is null ? null : Time.FromWire(RevokedAt));
    }

    private sealed class HashRow : Row
    {
        public byte[] TokenHash { get; set; } = [];
    }
}
