using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using OpenMint.Api.Auth;
using OpenMint.Chain;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using Tenancy = OpenMint.Core.Tenancy;
using OpenMint.Storage;

namespace OpenMint.Cli;

/// <summary>The operator's commands over the store: db, project, key (chain and collection: their own files).</summary>
internal static class AdminCommands
{
    public static Command Db()
    {
        var migrate = new Command("migrate", "Apply pending schema migrations (serve also does this on start)");
        migrate.Options.Add(Commands.Database);
        migrate.Options.Add(Cli.Json);
        migrate.SetAction(async (parse, ct) =>
        {
            try
            {
                await using var db = Database.Open(parse.GetValue(Commands.Database)!);
                var applied = await db.MigrateAsync(ct).ConfigureAwait(false);
                await Cli.Write(parse, new CliResult(new JsonObject { ["database"] = db.Display, ["applied"] = new JsonArray(applied.Select(a => (JsonNode)a).ToArray()) },
                    applied.Count == 0 ? $"{db.Display}: schema is up to date" : $"{db.Display}: applied {string.Join(", ", applied)}")).ConfigureAwait(false);
                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or System.Data.Common.DbException or IOException)
            {
                await Cli.Fail(parse, ex.Message).ConfigureAwait(false);
                return 1;
            }
        });
        return new Command("db", "Database maintenance") { migrate };
    }

    public static Command Project()
    {
        var name = new Option<string>("--name") { Description = "Project name", Required = true };
        var owner = new Option<string>("--owner-address") { Description = "Address that signs metadata-refresh requests (0x + 40 hex)", Required = true };
        var mintLimit = new Option<int>("--mint-limit-per-minute") { Description = "Distinct token ids (or assets) accepted per minute", DefaultValueFactory = _ => Tenancy.Project.DefaultMintLimitPerMinute };
        var refreshRps = new Option<int>("--refresh-requests-per-second") { Description = "Metadata refresh requests per second", DefaultValueFactory = _ => Tenancy.Project.DefaultRefreshRequestsPerSecond };
        var refreshPerHour = new Option<int>("--refresh-tokens-per-hour") { Description = "Tokens refreshed per hour", DefaultValueFactory = _ => Tenancy.Project.DefaultRefreshTokensPerHour };
        var refreshMax = new Option<int>("--refresh-max-tokens-per-request") { Description = "Token ids per refresh request", DefaultValueFactory = _ => Tenancy.Project.DefaultRefreshMaxTokensPerRequest };
        var create = new Command("create", "Create a project (then: openmint key create --project <id>)") { name, owner, mintLimit, refreshRps, refreshPerHour, refreshMax };
        create.WithStore(async (parse, store, ct) =>
        {
            var project = new Tenancy.Project(UuidV7.New().ToString(), parse.GetValue(name)!, ParseAddress(parse.GetValue(owner)!, "--owner-address"),
                Positive(parse.GetValue(mintLimit), "--mint-limit-per-minute"), Positive(parse.GetValue(refreshRps), "--refresh-requests-per-second"),
                Positive(parse.GetValue(refreshPerHour), "--refresh-tokens-per-hour"), Positive(parse.GetValue(refreshMax), "--refresh-max-tokens-per-request"), DateTimeOffset.UtcNow);
            await store.CreateProjectAsync(project, ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(project), $"project {project.Id} ({project.Name}) created\nnext: openmint key create --project {project.Id}");
        });

        var id = new Option<string>("--id") { Description = "Project id", Required = true };
        var newName = new Option<string?>("--name") { Description = "New name" };
        var newOwner = new Option<string?>("--owner-address") { Description = "New owner address" };
        var newMint = new Option<int?>("--mint-limit-per-minute") { Description = "New mint limit per minute" };
        var newRps = new Option<int?>("--refresh-requests-per-second") { Description = "New refresh requests per second" };
        var newPerHour = new Option<int?>("--refresh-tokens-per-hour") { Description = "New refresh tokens per hour" };
        var newMax = new Option<int?>("--refresh-max-tokens-per-request") { Description = "New refresh token ids per request" };
        var update = new Command("update", "Change a project's name, owner or limits") { id, newName, newOwner, newMint, newRps, newPerHour, newMax };
        update.WithStore(async (parse, store, ct) =>
        {
            var p = await RequireProjectAsync(store, parse.GetValue(id)!, ct).ConfigureAwait(false);
            p = p with
            {
                Name = parse.GetValue(newName) ?? p.Name,
                OwnerAddress = parse.GetValue(newOwner) is { } o ? ParseAddress(o, "--owner-address") : p.OwnerAddress,
                MintLimitPerMinute = parse.GetValue(newMint) is { } m ? Positive(m, "--mint-limit-per-minute") : p.MintLimitPerMinute,
                RefreshRequestsPerSecond = parse.GetValue(newRps) is { } r ? Positive(r, "--refresh-requests-per-second") : p.RefreshRequestsPerSecond,
                RefreshTokensPerHour = parse.GetValue(newPerHour) is { } h ? Positive(h, "--refresh-tokens-per-hour") : p.RefreshTokensPerHour,
                RefreshMaxTokensPerRequest = parse.GetValue(newMax) is { } x ? Positive(x, "--refresh-max-tokens-per-request") : p.RefreshMaxTokensPerRequest,
            };
            await store.UpdateProjectAsync(p, ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(p), $"project {p.Id} updated (running servers pick changes up within seconds)");
        });

        var list = new Command("list", "List projects").WithStore(async (parse, store, ct) =>
        {
            var projects = await store.ListProjectsAsync(ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(projects), projects.Count == 0 ? "no projects; create one with: openmint project create --name <name> --owner-address <0x...>"
                : string.Join('\n', projects.Select(p => $"{p.Id}\t{p.Name}\towner {p.OwnerAddress}\tmint limit {p.MintLimitPerMinute}/min")));
        });
        return new Command("project", "Projects: API keys, collections and limits belong to one") { create, update, list };
    }

    public static Command Key()
    {
        var project = new Option<string>("--project") { Description = "Project id", Required = true };
        var create = new Command("create", "Create an API key; the secret is printed once and only its hash is stored") { project };
        create.WithStore(async (parse, store, ct) =>
        {
            var p = await RequireProjectAsync(store, parse.GetValue(project)!, ct).ConfigureAwait(false);
            var issued = await ApiKeyIssuer.IssueAsync(store, p.Id, TimeProvider.System, ct).ConfigureAwait(false);
            var json = Cli.ToJson(issued.Key).AsObject();
            json["secret"] = issued.Secret;
            return new CliResult(json, $"key {issued.Key.Id} for project {p.Id}\nsecret (shown once, send it as x-immutable-api-key): {issued.Secret}");
        });
        var keyId = new Argument<string>("key-id") { Description = "The key's id (from key create / key list), not the secret" };
        var revoke = new Command("revoke", "Revoke an API key (running servers stop accepting it within seconds)") { keyId };
        revoke.WithStore(async (parse, store, ct) =>
        {
            var idValue = parse.GetValue(keyId)!;
            if (!await store.RevokeApiKeyAsync(idValue, ct).ConfigureAwait(false))
            {
                throw new CliException($"no active key with id {idValue}; see: openmint key list --project <project id>");
            }
            return new CliResult(new JsonObject { ["id"] = idValue, ["revoked"] = true }, $"key {idValue} revoked");
        });
        var listProject = new Option<string>("--project") { Description = "Project id", Required = true };
        var list = new Command("list", "List a project's API keys (never their secrets)") { listProject };
        list.WithStore(async (parse, store, ct) =>
        {
            var keys = await store.ListApiKeysAsync(parse.GetValue(listProject)!, ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(keys), keys.Count == 0 ? "no keys" : string.Join('\n', keys.Select(k => $"{k.Id}\t{k.Prefix}...\t{(k.RevokedAt is null ? "active" : "revoked " + Time.ToWire(k.RevokedAt.Value))}")));
        });
        return new Command("key", "API keys (x-immutable-api-key)") { create, revoke, list };
    }

    /// <summary><c>openmint admin token create|revoke|list</c>: the operator tokens that sign in to <c>/dashboard</c>.</summary>
    public static Command Admin()
    {
        var name = new Option<string?>("--name") { Description = "A label for the token (who or what uses it)" };
        var create = new Command("create", "Create an operator token for the dashboard; it is printed once and only its hash is stored") { name };
        create.WithFullStore(async (parse, storage, ct) =>
        {
            var issued = await storage.Operators.CreateAsync(parse.GetValue(name), ct).ConfigureAwait(false);
            return new CliResult(new JsonObject { ["id"] = issued.Token.Id, ["token"] = issued.Secret },
                $"operator token {issued.Token.Id}{(issued.Token.Name is { } n ? $" ({n})" : "")}\ntoken (shown once; sign in at /dashboard with it): {issued.Secret}");
        });
        var id = new Option<string>("--id") { Description = "The token's id (from admin token create / list), not the token", Required = true };
        var revoke = new Command("revoke", "Revoke an operator token: it no longer signs in, and its open sessions end") { id };
        revoke.WithFullStore(async (parse, storage, ct) =>
        {
            var value = parse.GetValue(id)!;
            if (!await storage.Operators.RevokeAsync(value, ct).ConfigureAwait(false))
            {
                throw new CliException($"no active operator token with id {value}; see: openmint admin token list");
            }
            return new CliResult(new JsonObject { ["id"] = value, ["revoked"] = true }, $"operator token {value} revoked");
        });
        var list = new Command("list", "List operator tokens (never the tokens themselves)").WithFullStore(async (parse, storage, ct) =>
        {
            var tokens = await storage.Operators.ListAsync(ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(tokens), tokens.Count == 0 ? "no operator tokens; create one with: openmint admin token create --name <name>"
                : string.Join('\n', tokens.Select(t => $"{t.Id}\t{t.Name ?? "-"}\t{t.Prefix}...\t{(t.RevokedAt is null ? "active" : "revoked " + Time.ToWire(t.RevokedAt.Value))}")));
        });
        return new Command("admin", "Operator access") { new Command("token", "Operator tokens: sign-in to the dashboard") { create, revoke, list } };
    }

    internal static string ParseAddress(string s, string option) =>
        EthAddress.TryParse(s.Trim(), out var lower) ? lower : throw new CliException($"{option} '{s}' is not an address: 0x followed by 40 hex characters");

    private static int Positive(int value, string option) =>
        value > 0 ? value : throw new CliException($"{option} must be a positive number");

    internal static async Task<Tenancy.Project> RequireProjectAsync(ITenancyStore store, string id, CancellationToken ct) =>
        await store.GetProjectAsync(id, ct).ConfigureAwait(false)
            ?? throw new CliException($"no project with id '{id}'; see: openmint project list");
}
