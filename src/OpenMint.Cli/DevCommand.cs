using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenMint.Api;
using OpenMint.DevChain;
using OpenMint.Storage;

namespace OpenMint.Cli;

/// <summary>
/// <c>openmint dev</c>: a fresh local Anvil with the presets, a freshly provisioned SQLite store, and the service,
/// in the foreground; Ctrl+C (or SIGTERM) stops the service and Anvil. The store is recreated every run
/// because the chain is new every run.
/// </summary>
internal static class DevCommand
{
    public static Command Create()
    {
        var database = new Option<string>("--database")
        {
            Description = "sqlite:<path> of the dev store (recreated every run)",
            DefaultValueFactory = _ => "sqlite:.openmint/dev.db",
        };
        var port = new Option<int>("--port") { Description = "HTTP port on 127.0.0.1", DefaultValueFactory = _ => 5080 };
        var blockTime = new Option<int?>("--block-time") { Description = "Mine a block every N seconds instead of one per transaction" };
        var chainId = new Option<long?>("--chain-id") { Description = "Chain id of the dev chain (default 31337)" };
        var webhookUrls = new Option<string[]>("--webhook-url") { Description = "Register this URL as a webhook endpoint of the demo project (repeatable; id and secret go to dev.json)" };
        var command = new Command("dev", "Start a local chain with Immutable's presets, a demo project and the service; writes .openmint/dev.json")
        {
            database, port, blockTime, chainId, webhookUrls,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(database)!, parse.GetValue(port), parse.GetValue(blockTime), parse.GetValue(chainId), parse.GetValue(webhookUrls) ?? [], ct));
        return command;
    }

    private static async Task<int> RunAsync(string database, int port, int? blockTime, long? chainId, string[] webhookUrls, CancellationToken ct)
    {
        if (!database.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync("openmint dev runs on an embedded SQLite file (--database sqlite:<path>); use `openmint serve` for PostgreSQL.").ConfigureAwait(false);
            return 2;
        }
        var stateDir = StartFresh(database);

        // The presets' baseURI points at a local demo metadata server, so a metadata refresh visibly changes an asset.
        await using var demoMetadata = await DemoMetadataServer.StartAsync(new DemoMetadataOptions(), ct).ConfigureAwait(false);
        await Console.Error.WriteLineAsync("dev: starting Anvil and deploying the presets").ConfigureAwait(false);
        await using var chain = await DevChain.DevChain.StartAsync(new AnvilOptions { BlockTimeSeconds = blockTime, ChainId = chainId }, new PresetDeployOptions(demoMetadata.BaseUri), ct).ConfigureAwait(false);

        var store = await OpenMintStorage.OpenAsync(database, ct).ConfigureAwait(false);
        DevInfo info;
        await using (store.ConfigureAwait(false))
        {
            info = await DevBootstrap.ProvisionAsync(store.Tenancy, database, chain.Deployment, stateDir, TimeProvider.System, ct).ConfigureAwait(false);
            info = await DevBootstrap.AddWebhooksAsync(store.Webhooks, store.Tenancy, info, webhookUrls, TimeProvider.System, ct).ConfigureAwait(false);
        }

        var app = await OpenMintServer.BuildAsync(new ServerOptions(database, $"http://127.0.0.1:{port}",
            new Dictionary<string, string?> { ["Refresh:AllowLoopback"] = "true", ["Webhooks:AllowLoopback"] = "true" }), ct).ConfigureAwait(false);
        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync(ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"dev: cannot listen on 127.0.0.1:{port} ({e.Message}); pass --port <free port>.").ConfigureAwait(false);
                return 1;
            }
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? $"http://127.0.0.1:{port}";
            info = info with { BaseUrl = address.TrimEnd('/') };
            PrintRunning(info, demoMetadata.BaseUri, DevBootstrap.WriteDevJson(info, stateDir));
            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
        }
        await Console.Error.WriteLineAsync("dev: stopped").ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// Every run starts a fresh chain, so the store file goes too (its rows would point at txs that no longer exist),
    /// and a dev.json from an earlier run (it reappears once this run serves). Returns the state folder.
    /// </summary>
    private static string StartFresh(string database)
    {
        var stateDir = Path.GetFullPath(".openmint");
        Directory.CreateDirectory(stateDir);
        File.Delete(Path.Combine(stateDir, DevBootstrap.DevJsonFileName));
        var dbPath = Path.GetFullPath(database["sqlite:".Length..]);
        Directory.CreateDirectory(Path.GetDirectoryName(dbPath)!);
        foreach (var file in new[] { dbPath, dbPath + "-wal", dbPath + "-shm" })
        {
            File.Delete(file);
        }
        return stateDir;
    }

    private static void PrintRunning(DevInfo info, string demoMetadata, string devJson) =>
        Console.WriteLine($"""

                OpenMint dev is running.
                  service      {info.BaseUrl}
                  chain        {info.ChainName} (id {info.ChainId}) at {info.RpcUrl}
                  store        {info.Database}
                  api key      {info.ApiKey}   (header x-immutable-api-key)
                  metadata     {demoMetadata}<collection>/<id>   (demo server; refresh a token to see it change)
                  webhooks     {(info.Webhooks is { Count: > 0 } hooks ? string.Join(", ", hooks.Select(h => h.Url)) : "none (--webhook-url <url>)")}
                  collections  {string.Join(", ", info.Collections.Select(c => $"{c.Key} {c.Value}"))}
                  details      {Path.GetRelativePath(Directory.GetCurrentDirectory(), devJson)}
                Ctrl+C stops the service and the chain.
                """);
}
