namespace OpenMint.Storage.Tests;

/// <summary>Operator tokens (the dashboard's sign-in), written once and run on each backend.</summary>
public abstract class OperatorTokenStoreTests<TBackend>(TBackend backend) : StoreSuite<TBackend>(backend) where TBackend : class, IStoreBackend
{
    [Fact]
    public async Task a_token_signs_in_until_revoked_and_only_its_hash_is_stored()
    {
        var issued = await Store.Operators.CreateAsync("  ops  ", Ct);
        Assert.StartsWith("om_op_", issued.Secret);
        Assert.Equal("ops", issued.Token.Name);
        Assert.Equal(issued.Token.Id, (await Store.Operators.AuthenticateAsync(issued.Secret, Ct))?.Id);
        Assert.True(await Store.Operators.IsActiveAsync(issued.Token.Id, Ct));

        await using (var c = await Store.Database.OpenConnectionAsync(Ct))
        {
            var stored = await Dapper.SqlMapper.QuerySingleAsync<byte[]>(c, "SELECT token_hash FROM operator_token WHERE id = @id", new { id = issued.Token.Id });
            Assert.Equal(Core.Tenancy.ApiKeySecrets.Hash(issued.Secret), stored);
        }

        Assert.True(await Store.Operators.RevokeAsync(issued.Token.Id, Ct));
        Assert.False(await Store.Operators.RevokeAsync(issued.Token.Id, Ct));
        Assert.Null(await Store.Operators.AuthenticateAsync(issued.Secret, Ct));
        Assert.False(await Store.Operators.IsActiveAsync(issued.Token.Id, Ct));
        Assert.NotNull((await Store.Operators.ListAsync(Ct)).Single(t => t.Id == issued.Token.Id).RevokedAt);
    }

    [Fact]
    public async Task a_wrong_or_malformed_token_does_not_sign_in()
    {
        var issued = await Store.Operators.CreateAsync(null, Ct);
        Assert.Null(issued.Token.Name);
        var tampered = issued.Secret[..^1] + (issued.Secret[^1] == 'A' ? 'B' : 'A');
        Assert.Null(await Store.Operators.AuthenticateAsync(tampered, Ct));
        Assert.Null(await Store.Operators.AuthenticateAsync("om_op_", Ct));
        Assert.Null(await Store.Operators.AuthenticateAsync("sk_om_" + issued.Secret[6..], Ct));
        Assert.Null(await Store.Operators.AuthenticateAsync("", Ct));
    }
}

public sealed class SqliteOperatorTokenStoreTests(SqliteBackend backend) : OperatorTokenStoreTests<SqliteBackend>(backend);

public sealed class PostgresOperatorTokenStoreTests(PostgresBackend backend) : OperatorTokenStoreTests<PostgresBackend>(backend);
