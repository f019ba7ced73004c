using System.Data.Common;
using System.Reflection;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using OpenMint.Storage.Postgres;
using OpenMint.Storage.Sqlite;

namespace OpenMint.Storage;

/// <summary>
/// Where the store lives, parsed from the one <c>--database</c> / <c>OPENMINT_DATABASE</c> value:
/// <c>sqlite:&lt;path&gt;</c> or a PostgreSQL connection string (<c>Host=...</c> or <c>postgres://...</c>).
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private Database(SqlDialect dialect, string display, TimeProvider time)
    {
        Dialect = dialect;
        Display = display;
        _time = time;
    }

    private readonly TimeProvider _time;

    /// <summary>The dialect's thin part: connection setup, row locking, list parameters, intake statements.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>The value as given (for logs and dev.json); never contains a password for SQLite.</summary>
    public string Display { get; }

    public static Database Open(string value, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        time ??= TimeProvider.System;
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
            return new Database(new SqliteDialect(cs), value, time);
        }
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return new Database(new PostgresDialect(FromPostgresUri(new Uri(value))), value, time);
        }
        if (value.Contains("Host=", StringComparison.OrdinalIgnoreCase))
        {
            return new Database(new PostgresDialect(value), value, time);
        }
        throw new ArgumentException(
            $"Unrecognised database '{value}'. Use sqlite:<path> (embedded) or a PostgreSQL connection string such as 'Host=127.0.0.1;Port=5432;Database=openmint;Username=openmint'.");
    }

    public Task<DbConnection> OpenConnectionAsync(CancellationToken ct) => Dialect.OpenConnectionAsync(ct);

    /// <summary>
    /// Runs <paramref name="work"/> in one store transaction (SQLite: BEGIN IMMEDIATE, so writers never deadlock on upgrade)
    /// and returns once its commit is durable. On SQLite the WAL's fsync runs after the write lock is free
    /// (<see cref="SqlDialect.CommittedAsync"/>), so other writers do not wait for this one's disk.
    /// </summary>
    public async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await Dialect.OpenWriteConnectionAsync(ct).ConfigureAwait(false);
        T result;
        long mark;
        await using (var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false))
        {
            mark = Dialect.WriteMark(connection);
            result = await work(connection, tx).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
        await Dialect.CommittedAsync(connection, mark).ConfigureAwait(false);
        return result;
    }

    public Task InTransactionAsync(Func<DbConnection, DbTransaction, Task> work, CancellationToken ct) =>
        InTransactionAsync<bool>(async (c, t) => { await work(c, t).ConfigureAwait(false); return true; }, ct);

    /// <summary>Applies the numbered scripts under Migrations/&lt;dialect&gt;/ not yet applied; returns their names.</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct)
    {
        var folder = Dialect.MigrationsFolder;
        var assembly = typeof(Database).Assembly;
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith($"Migrations/{folder}/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => (Resource: n, Name: Path.GetFileNameWithoutExtension(n)))
            .Select(s => (s.Resource, s.Name, Version: int.Parse(s.Name.AsSpan(0, s.Name.IndexOf('_')), System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(s => s.Version)
            .ToList();

        await using var connection = await OpenConnectionAsync(ct).ConfigureAwait(false);
        await Dialect.BeginMigrationAsync(connection, ct).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", cancellationToken: ct)).ConfigureAwait(false);
            var applied = (await connection.QueryAsync<int>(new CommandDefinition("SELECT version FROM schema_migration", cancellationToken: ct)).ConfigureAwait(false)).ToHashSet();
            var done = new List<string>();
            foreach (var script in scripts.Where(s => !applied.Contains(s.Version)))
            {
                var sql = ReadResource(assembly, script.Resource);
                await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct)).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_migration (version, name, applied_at) VALUES (@v, @n, @a)",
                    new { v = script.Version, n = script.Name, a = Core.Time.ToWire(_time.GetUtcNow()) }, tx, cancellationToken: ct)).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                done.Add(script.Name);
            }
            return done;
        }
        finally
        {
            await Dialect.EndMigrationAsync(connection, CancellationToken.None).ConfigureAwait(false);
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

    public ValueTask DisposeAsync() => Dialect.DisposeAsync();
}
