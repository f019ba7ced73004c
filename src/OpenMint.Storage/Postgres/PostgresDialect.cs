using System.Data.Common;
using Dapper;
using Npgsql;
using OpenMint.Core.Minting;
using OpenMint.Storage.Minting;

namespace OpenMint.Storage.Postgres;

/// <summary>
/// PostgreSQL's part: one pooled <see cref="NpgsqlDataSource"/>, advisory locks (migrations; intake's shared writer lock,
/// see Minting/IntakeOrder.cs), <c>FOR UPDATE SKIP LOCKED</c> row picking, arrays passed as one parameter (<c>= ANY</c>), intake rows as column arrays.
/// </summary>
internal sealed class PostgresDialect(string connectionString) : SqlDialect
{
    /// <summary>Held by the one migrator at a time across instances.</summary>
    private const long MigrationLock = 727274;

    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    /// <summary>
    /// The intake writer's connection comes from its own pool, whose statements are prepared after their second use
    /// (Npgsql's auto-prepare, unless the connection string sets it): the writer runs the same dozen statements for as long
    /// as it lives, so the server parses and plans each once instead of once per group.
    /// </summary>
    private readonly NpgsqlDataSource _intakeSource = NpgsqlDataSource.Create(IntakeConnectionString(connectionString));

    public override string MigrationsFolder => "postgres";

    internal override async Task<DbConnection> OpenConnectionAsync(CancellationToken ct) =>
        await _source.OpenConnectionAsync(ct).ConfigureAwait(false);

    internal override Task BeginMigrationAsync(DbConnection connection, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = MigrationLock }, cancellationToken: ct));

    internal override Task EndMigrationAsync(DbConnection connection, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@key)", new { key = MigrationLock }, cancellationToken: ct));

    internal override string SkipLocked(string? alias = null) => alias is null ? " FOR UPDATE SKIP LOCKED" : $" FOR UPDATE OF {alias} SKIP LOCKED";

    internal override string ForUpdate => " FOR UPDATE";

    internal override string ForShare => " FOR SHARE";

    internal override string In(string column, string parameter) => $"{column} = ANY({parameter})";

    internal override object List<T>(IEnumerable<T> values) => values.ToArray();

    internal override string NoIndex(string column) => column;

    internal override object Bool(bool value) => value;

    internal override object? PrepareIntake(MintRequestRecord[] records, string[] referenceIds, string[] checkedTokenIds) => null;

    internal override async Task<IntakeStatements> OpenIntakeAsync(TimeProvider time, CancellationToken ct) =>
        new PostgresIntakeStatements(await _intakeSource.OpenConnectionAsync(ct).ConfigureAwait(false), time);

    private static string IntakeConnectionString(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 32;
            builder.AutoPrepareMinUsages = 2;
        }
        return builder.ConnectionString;
    }

    public override async ValueTask DisposeAsync()
    {
        await _intakeSource.DisposeAsync().ConfigureAwait(false);
        await _source.DisposeAsync().ConfigureAwait(false);
    }
}
