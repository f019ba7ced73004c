using System.Data.Common;
using System.Reflection;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace OpenMint.Storage;

public enum SqlDialect { Sqlite, Postgres }

/// <summary>
/// Where the store lives, parsed from the one <c>--database</c> / <c>OPENMINT_DATABASE</c> value:
/// <c>sqlite:&lt;path&gt;</c> or a PostgreSQL connection string (<c>Host=...</c> or <c>postgres://...</c>).
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly NpgsqlDataSource? _postgres;

    private Database(SqlDialect dialect, string connectionString, string display)
    {
        Dialect = dialect;
        _connectionString = connectionString;
        Display = display;
        if (dialect == SqlDialect.Postgres)
        {
            _postgres = NpgsqlDataSource.Create(connectionString);
        }
    }

    public SqlDialect Dialect { get; }

    /// <summary>The value as given (for logs and dev.json); never contains a password for SQLite.</summary>
    public string Display { get; }

    public static Database Open(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        if (value.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = value["sqlite:".Length..];
            if (path.Length == 0)
            {
                throw new ArgumentException("--database sqlite:<path> needs a file path, e.g. sqlite:.openmint/openmint.db");
            }
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var cs = new SqliteConnectionStringBuilder
            {
                DataSource = full,
                Mode = SqliteOpenMode.ReadWriteCreate,
                Cache = SqliteCacheMode.Private,
                Pooling = true,
                DefaultTimeout = 30, // also the busy timeout: writers wait instead of failing
            }.ToString();
            return new Database(SqlDialect.Sqlite, cs, value);
        }
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return new Database(SqlDialect.Postgres, FromPostgresUri(new Uri(value)), value);
        }
        if (value.Contains("Host=", StringComparison.OrdinalIgnoreCase))
        {
            return new Database(SqlDialect.Postgres, value, value);
        }
        throw new ArgumentException(
            $"Unrecognised database '{value}'. Use sqlite:<path> (embedded) or a PostgreSQL connection string such as 'Host=127.0.0.1;Port=5432;Database=openmint;Username=openmint'.");
    }

    public async Task<DbConnection> OpenConnectionAsync(CancellationToken ct)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(ct).ConfigureAwait(false);
        }
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        // Per-connection settings: FULL makes every commit durable before we answer 202.
        await connection.ExecuteAsync("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;").ConfigureAwait(false);
        return connection;
    }

    /// <summary>Runs <paramref name="work"/> in one store transaction (SQLite: BEGIN IMMEDIATE, so writers never deadlock on upgrade).</summary>
    public async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var result = await work(connection, tx).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return result;
    }

    public Task InTransactionAsync(Func<DbConnection, DbTransaction, Task> work, CancellationToken ct) =>
        InTransactionAsync<bool>(async (c, t) => { await work(c, t).ConfigureAwait(false); return true; }, ct);

    /// <summary>Applies the numbered scripts under Migrations/&lt;dialect&gt;/ not yet applied; returns their names.</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct)
    {
        var folder = Dialect == SqlDialect.Sqlite ? "sqlite" : "postgres";
        var assembly = typeof(Database).Assembly;
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith($"Migrations/{folder}/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => (Resource: n, Name: Path.GetFileNameWithoutExtension(n)))
            .Select(s => (s.Resource, s.Name, Version: int.Parse(s.Name.AsSpan(0, s.Name.IndexOf('_')), System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(s => s.Version)
            .ToList();

        await using var connection = await OpenConnectionAsync(ct).ConfigureAwait(false);
        if (Dialect == SqlDialect.Sqlite)
        {
            await connection.ExecuteAsync("PRAGMA journal_mode=WAL;").ConfigureAwait(false);
        }
        else
        {
            // One migrator at a time across instances.
            await connection.ExecuteAsync("SELECT pg_advisory_lock(727274)").ConfigureAwait(false);
        }
        try
        {
            await connection.ExecuteAsync(
                "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)").ConfigureAwait(false);
            var applied = (await connection.QueryAsync<int>("SELECT version FROM schema_migration").ConfigureAwait(false)).ToHashSet();
            var done = new List<string>();
            foreach (var script in scripts.Where(s => !applied.Contains(s.Version)))
            {
                var sql = ReadResource(assembly, script.Resource);
                await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct)).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_migration (version, name, applied_at) VALUES (@v, @n, @a)",
                    new { v = script.Version, n = script.Name, a = Core.Time.ToWire(DateTimeOffset.UtcNow) }, tx, cancellationToken: ct)).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                done.Add(script.Name);
            }
            return done;
        }
        finally
        {
            if (Dialect == SqlDialect.Postgres)
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(727274)").ConfigureAwait(false);
            }
        }
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static string FromPostgresUri(Uri uri)
    {
        var b = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port, Database = uri.AbsolutePath.Trim('/') };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1)
            {
                b.Password = Uri.UnescapeDataString(parts[1]);
            }
        }
        return b.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>SQL text that differs between the dialects.</summary>
internal static class SqlList
{
    /// <summary>
    /// "column matches any element of the array parameter": Dapper expands <c>IN @list</c> on SQLite but passes
    /// arrays to PostgreSQL as one array parameter, which only <c>= ANY(@list)</c> accepts.
    /// </summary>
    public static string In(System.Data.Common.DbConnection c, string column, string parameter) =>
        c is Npgsql.NpgsqlConnection ? $"{column} = ANY({parameter})" : $"{column} IN {parameter}";
}
