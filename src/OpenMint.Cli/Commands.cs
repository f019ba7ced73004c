using System.CommandLine;
using Microsoft.Extensions.Hosting;
using OpenMint.Api;

namespace OpenMint.Cli;

internal static class Commands
{
    public static readonly Option<string> Database = new("--database")
    {
        Description = "sqlite:<path> or a PostgreSQL connection string (env OPENMINT_DATABASE)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("OPENMINT_DATABASE") ?? "sqlite:.openmint/openmint.db",
        Recursive = true,
    };

    public static IEnumerable<Command> All()
    {
        yield return Serve();
        yield return DevCommand.Create();
    }

    private static Command Serve()
    {
        var port = new Option<int>("--port") { Description = "HTTP port on 127.0.0.1", DefaultValueFactory = _ => 5080 };
        var command = new Command("serve", "Run the HTTP API and the workers") { Database, port };
        command.SetAction(async (parse, ct) =>
        {
            var app = await OpenMintServer.BuildAsync(new ServerOptions(parse.GetValue(Database)!, $"http://127.0.0.1:{parse.GetValue(port)}"), ct).ConfigureAwait(false);
            await app.StartAsync(ct).ConfigureAwait(false);
            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
