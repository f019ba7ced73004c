using Npgsql;
using Xunit;

namespace OpenMint.TestSupport;

/// <summary>
/// A fresh PostgreSQL database per test class, created from OPENMINT_TEST_POSTGRES (exported by ./test; when unset,
/// the private server scripts/setup.sh started is found by its port file) and dropped afterwards.
/// When no server is reachable it fails with how to fix it.
/// </summary>
public class PostgresFixture : IAsyncLifetime
{
    private string? _connectionString;
    private string? _adminConnectionString;

    /// <summary>Npgsql connection string of this class's own database; also a valid <c>--database</c> value.</summary>
    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("PostgresFixture is not initialised");

    public string DatabaseName { get; } = "t_" + Guid.NewGuid().ToString("N")[..16];

    /// <summary>The server connection string (from the environment or the private server), or null.</summary>
    public static string? ServerConnectionString()
    {
        var fromEnv = Environment.GetEnvironmentVariable("OPENMINT_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return fromEnv;
        }
        var portFile = $"/tmp/openmint-pg-{CurrentUid()}/port";
        return File.Exists(portFile)
            ? $"Host=127.0.0.1;Port={File.ReadAllText(portFile).Trim()};Username=openmint;Database=openmint"
            : null;
    }

    public async Task InitializeAsync()
    {
        var server = ServerConnectionString() ?? throw new InvalidOperationException(
            "No PostgreSQL for tests: OPENMINT_TEST_POSTGRES is unset and no private server was started. Run ./test at the repository root (it installs and starts one)."
            + (TestEnvironment.IsCi ? " CI=true: the PostgreSQL tests must run." : ""));
        _adminConnectionString = server;
        try
        {
            await using var admin = new NpgsqlConnection(server);
            await admin.OpenAsync().ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{DatabaseName}\"", admin);
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException($"PostgreSQL for tests is not reachable ({e.Message}). Run ./test at the repository root to start it.", e);
        }
        _connectionString = new NpgsqlConnectionStringBuilder(server) { Database = DatabaseName }.ToString();
    }

    /// <summary>
    /// Another fresh database on the same server, for a test that must not see the rows of the class's other tests
    /// (e.g. a whole server's store); dropped with the class's own. Returns its connection string (a <c>--database</c> value).
    /// </summary>
    public async Task<string> NewDatabaseAsync()
    {
        var admin = _adminConnectionString ?? throw new InvalidOperationException("PostgresFixture is not initialised");
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        lock (_extraDatabases)
        {
            _extraDatabases.Add(name);
        }
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ToString();
    }

    private readonly List<string> _extraDatabases = [];

    public async Task DisposeAsync()
    {
        if (_connectionString is null || _adminConnectionString is null)
        {
            return;
        }
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_adminConnectionString);
        await admin.OpenAsync().ConfigureAwait(false);
        foreach (var name in _extraDatabases.Prepend(DatabaseName))
        {
            await DropAsync(admin, name).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Drops a test database, retrying a few times: with several suites sharing the server, a backend that is still
    /// starting up in it (a pool refilling after ClearAllPools) can make one DROP ... WITH (FORCE) fail.
    /// </summary>
    private static async Task DropAsync(NpgsqlConnection admin, string name)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
                await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
                return;
            }
            catch (PostgresException e) when (attempt < 5)
            {
                Console.Error.WriteLine($"PostgresFixture: DROP DATABASE {name} failed ({e.SqlState}: {e.MessageText}); retrying");
                await Task.Delay(200 * attempt).ConfigureAwait(false);
            }
        }
    }

    private static string CurrentUid()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                return line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[1];
            }
        }
        throw new InvalidOperationException("no Uid line in /proc/self/status");
    }
}
