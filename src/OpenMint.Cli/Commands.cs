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
        yield return AdminCommands.Db();
        yield return ChainCommands.Chain();
        yield return AdminCommands.Project();
        yield return AdminCommands.Key();
        yield return AdminCommands.Admin();
        yield return CollectionCommands.Collection();
        yield return SignerCommands.Signer();
        yield return WebhookCommands.Webhook();
        yield return DevCommand.Create();
    }

    /// <summary>The whole command tree (Program.cs and the in-process CLI tests).</summary>
    public static RootCommand Root()
    {
        var root = new RootCommand("openmint: self-hosted NFT minting and metadata refresh (Immutable Minting API compatible)");
        foreach (var command in All())
        {
            root.Subcommands.Add(command);
        }
        return root;
    }

    private static Command Serve()
    {
        var port = new Option<int>("--port") { Description = "HTTP port", DefaultValueFactory = _ => 5080 };
        var host = new Option<string>("--host") { Description = "Address to bind: 127.0.0.1 (default, loopback only), 0.0.0.0 for every interface", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("serve", "Run the HTTP API and the workers") { Database, port, host, Cli.Json };
        command.SetAction(async (parse, ct) =>
        {
            var app = await OpenMintServer.BuildAsync(new ServerOptions(parse.GetValue(Database)!, $"http://{parse.GetValue(host)}:{parse.GetValue(port)}"), ct).ConfigureAwait(false);
            await app.StartAsync(ct).ConfigureAwait(false);
            var url = app.Urls.FirstOrDefault() ?? "";
            await Cli.Write(parse, new CliResult(new System.Text.Json.Nodes.JsonObject { ["base_url"] = url, ["database"] = parse.GetValue(Database) },
                $"openmint serving {url} (database {parse.GetValue(Database)}); Ctrl+C stops")).ConfigureAwait(false);
            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
