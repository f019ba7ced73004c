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

/// <summary>The operator's commands over the store: db, chain, project, key, collection.</summary>
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

    public static Command Chain()
    {
        var name = new Argument<string>("name") { Description = "Chain name as it appears in API paths, e.g. imtbl-zkevm-testnet" };
        var chainId = new Option<long>("--chain-id") { Description = "EIP-155 chain id", Required = true };
        var rpcUrl = new Option<string[]>("--rpc-url") { Description = "JSON-RPC endpoint; repeat for fallbacks", Required = true };
        var keyFile = new Option<string?>("--minter-key-file") { Description = "File holding the minter's private key (hex); only the path is stored" };
        var keyEnv = new Option<string?>("--minter-key-env") { Description = "Environment variable holding the minter's private key; only its name is stored" };
        var confirmations = new Option<int>("--confirmations") { Description = "Blocks on top of a receipt before a mint counts as succeeded", DefaultValueFactory = _ => 0 };
        var add = new Command("add", "Add or replace a chain") { name, chainId, rpcUrl, keyFile, keyEnv, confirmations };
        add.WithStore(async (parse, store, ct) =>
        {
            var chainName = parse.GetValue(name)!.Trim();
            if (chainName.Length == 0 || chainName.Contains('/', StringComparison.Ordinal) || chainName.Any(char.IsWhiteSpace))
            {
                throw new CliException($"chain name '{chainName}' cannot be used in a URL path: use letters, digits and dashes, e.g. imtbl-zkevm-testnet");
            }
            var urls = parse.GetValue(rpcUrl)!;
            foreach (var url in urls)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
                {
                    throw new CliException($"--rpc-url '{url}' is not an http(s) URL, e.g. http://127.0.0.1:8545");
                }
            }
            var id = parse.GetValue(chainId);
            if (id <= 0)
            {
                throw new CliException("--chain-id must be a positive EIP-155 chain id, e.g. 13473 (Immutable zkEVM testnet) or 31337 (Anvil)");
            }
            var conf = parse.GetValue(confirmations);
            if (conf < 0)
            {
                throw new CliException("--confirmations must be 0 or more");
            }
            var keyRef = MinterKeyRef(parse.GetValue(keyFile), parse.GetValue(keyEnv));
            var existing = await store.GetChainAsync(chainName, ct).ConfigureAwait(false);
            var chain = new ChainConfig(chainName, id, urls, keyRef, conf, existing?.CreatedAt ?? DateTimeOffset.UtcNow);
            await store.UpsertChainAsync(chain, ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(chain), $"chain {chainName} (chain id {id}) {(existing is null ? "added" : "updated")}; minter key: {keyRef ?? "none (cannot mint until one is set)"}");
        });
        var list = new Command("list", "List chains").WithStore(async (parse, store, ct) =>
        {
            var chains = await store.ListChainsAsync(ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(chains), chains.Count == 0 ? "no chains; add one with: openmint chain add <name> --chain-id <id> --rpc-url <url> --minter-key-file <path>"
                : string.Join('\n', chains.Select(c => $"{c.Name}\tchain id {c.ChainId}\t{string.Join(", ", c.RpcUrls)}\tminter {c.MinterKeyRef ?? "-"}\tconfirmations {c.Confirmations}")));
        });
        return new Command("chain", "Chains OpenMint mints on") { add, list };
    }

    /// <summary>Private keys never enter the store: only where to find them.</summary>
    private static string? MinterKeyRef(string? file, string? env)
    {
        if (file is not null && env is not null)
        {
            throw new CliException("give either --minter-key-file or --minter-key-env, not both");
        }
        if (file is not null)
        {
            if (LooksLikePrivateKey(file))
            {
                throw new CliException("--minter-key-file takes the path of a file holding the key, not the key itself (keys never go into the store)");
            }
            var full = Path.GetFullPath(file);
            if (!File.Exists(full))
            {
                throw new CliException($"--minter-key-file {full} does not exist; write the minter's hex private key into that file (chmod 600) and run again");
            }
            return "file:" + full;
        }
        if (env is not null)
        {
            if (LooksLikePrivateKey(env) || env.Length == 0 || !env.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
            {
                throw new CliException("--minter-key-env takes the NAME of an environment variable (e.g. OPENMINT_MINTER_KEY), not the key itself");
            }
            return "env:" + env;
        }
        return null;
    }

    private static bool LooksLikePrivateKey(string s)
    {
        var hex = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s;
        return hex.Length == 64 && hex.All(char.IsAsciiHexDigit);
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

    public static Command Collection()
    {
        var add = new Command("add", "Link a deployed contract to a project");
        var update = new Command("update", "Change a collection's project, kind, variant, base URI or minting flag");
        foreach (var (command, isAdd) in new[] { (add, true), (update, false) })
        {
            var chain = new Option<string>("--chain") { Description = "Chain name (see: openmint chain list)", Required = true };
            var address = new Option<string>("--address") { Description = "Contract address", Required = true };
            var project = new Option<string?>("--project") { Description = "Project id", Required = isAdd };
            var kind = new Option<string?>("--kind") { Description = "erc721 or erc1155; detected with ERC-165 when omitted" };
            var variant = new Option<string?>("--variant") { Description = "Preset: erc721-v2 (default for ERC721), erc721-v1, erc721-mint-by-id, erc1155" };
            var baseUri = new Option<string?>("--base-uri") { Description = "Metadata base URI override for refreshes (empty string clears it)" };
            var minting = new Option<bool?>("--minting-enabled") { Description = "true or false (default true on add)" };
            command.Options.Add(chain);
            command.Options.Add(address);
            command.Options.Add(project);
            command.Options.Add(kind);
            command.Options.Add(variant);
            command.Options.Add(baseUri);
            command.Options.Add(minting);
            command.WithStore(async (parse, store, ct) =>
            {
                var chainName = parse.GetValue(chain)!;
                var chainConfig = await store.GetChainAsync(chainName, ct).ConfigureAwait(false)
                    ?? throw new CliException($"unknown chain '{chainName}'; add it first: openmint chain add {chainName} --chain-id <id> --rpc-url <url> --minter-key-file <path>");
                var addr = ParseAddress(parse.GetValue(address)!, "--address");
                var existing = await store.GetCollectionAsync(chainName, addr, ct).ConfigureAwait(false);
                if (isAdd && existing is not null)
                {
                    throw new CliException($"collection {addr} on {chainName} already exists (project {existing.ProjectId}); change it with: openmint collection update --chain {chainName} --address {addr} ...");
                }
                if (!isAdd && existing is null)
                {
                    throw new CliException($"no collection {addr} on {chainName}; add it with: openmint collection add --chain {chainName} --address {addr} --project <id>");
                }
                var projectId = parse.GetValue(project) ?? existing!.ProjectId;
                await RequireProjectAsync(store, projectId, ct).ConfigureAwait(false);

                CollectionKind? k = parse.GetValue(kind) is { } kindText ? ParseKind(kindText) : existing?.Kind;
                var detected = false;
                if (k is null)
                {
                    k = await DetectKindAsync(chainConfig, addr, ct).ConfigureAwait(false);
                    detected = true;
                }
                var v = parse.GetValue(variant) is { } variantText ? ParseVariant(variantText)
                    : existing is not null && existing.Kind == k ? existing.Variant
                    : k == CollectionKind.Erc1155 ? PresetVariant.Erc1155 : PresetVariant.Erc721V2;
                if ((v == PresetVariant.Erc1155) != (k == CollectionKind.Erc1155))
                {
                    throw new CliException($"--variant {v} does not fit kind {k}: ERC1155 collections use erc1155, ERC721 ones erc721-v2, erc721-v1 or erc721-mint-by-id");
                }
                var uri = parse.GetValue(baseUri) is { } u ? (u.Length == 0 ? null : ValidateUri(u)) : existing?.BaseUriOverride;
                var enabled = parse.GetValue(minting) ?? existing?.MintingEnabled ?? true;

                var collection = new Tenancy.Collection(existing?.Id ?? 0, chainName, addr, projectId, k.Value, v, uri, enabled, existing?.CreatedAt ?? DateTimeOffset.UtcNow);
                if (isAdd)
                {
                    collection = await store.AddCollectionAsync(collection, ct).ConfigureAwait(false);
                }
                else
                {
                    await store.UpdateCollectionAsync(collection, ct).ConfigureAwait(false);
                }
                var json = Cli.ToJson(collection).AsObject();
                json["kind_detected"] = detected;
                return new CliResult(json, $"collection {addr} on {chainName} {(isAdd ? "added" : "updated")}: {KindName(k.Value)}{(detected ? " (detected via ERC-165)" : "")}, {v}, project {projectId}, minting {(enabled ? "enabled" : "disabled")}{(uri is null ? "" : ", base URI " + uri)}");
            });
        }
        var listProject = new Option<string?>("--project") { Description = "Only this project's collections" };
        var list = new Command("list", "List collections") { listProject };
        list.WithStore(async (parse, store, ct) =>
        {
            var collections = await store.ListCollectionsAsync(parse.GetValue(listProject), ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(collections), collections.Count == 0 ? "no collections; add one with: openmint collection add --chain <name> --address <0x...> --project <id>"
                : string.Join('\n', collections.Select(c => $"{c.ChainName}\t{c.Address}\t{KindName(c.Kind)}\t{c.Variant}\tproject {c.ProjectId}\tminting {(c.MintingEnabled ? "enabled" : "disabled")}")));
        });
        return new Command("collection", "Collections (contracts) a project mints into") { add, update, list };
    }

    private static async Task<CollectionKind> DetectKindAsync(ChainConfig chain, string address, CancellationToken ct)
    {
        if (chain.RpcUrls.Count == 0)
        {
            throw new CliException($"cannot detect the kind of {address}: chain {chain.Name} has no RPC URL; pass --kind erc721 or --kind erc1155");
        }
        using var http = new HttpClient();
        var eth = new EthClient(new JsonRpcClient(http, chain.RpcUrls.Select(u => new Uri(u)).ToList(), TimeSpan.FromSeconds(10)));
        try
        {
            return await CollectionKindDetector.DetectAsync(eth, address, ct).ConfigureAwait(false)
                ?? throw new CliException($"{address} on {chain.Name} declares neither ERC721 ({CollectionKindDetector.Erc721InterfaceId}) nor ERC1155 ({CollectionKindDetector.Erc1155InterfaceId}) through ERC-165; check the address or pass --kind");
        }
        catch (RpcTransportException ex)
        {
            throw new CliException($"cannot reach {chain.RpcUrls[0]} to detect the kind of {address} ({ex.Message}); start the node or pass --kind erc721|erc1155");
        }
    }

    private static CollectionKind ParseKind(string s) => s.Trim().ToLowerInvariant() switch
    {
        "erc721" or "erc-721" => CollectionKind.Erc721,
        "erc1155" or "erc-1155" => CollectionKind.Erc1155,
        _ => throw new CliException($"--kind '{s}' is not erc721 or erc1155 (omit it to detect via ERC-165)"),
    };

    private static PresetVariant ParseVariant(string s)
    {
        var key = s.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        return key switch
        {
            "erc721v2" or "erc721" => PresetVariant.Erc721V2,
            "erc721v1" => PresetVariant.Erc721V1,
            "erc721mintbyid" => PresetVariant.Erc721MintById,
            "erc1155" => PresetVariant.Erc1155,
            _ => throw new CliException($"--variant '{s}' is not one of erc721-v2, erc721-v1, erc721-mint-by-id, erc1155"),
        };
    }

    private static string KindName(CollectionKind k) => k == CollectionKind.Erc1155 ? "erc1155" : "erc721";

    private static string ValidateUri(string u) =>
        Uri.TryCreate(u, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || uri.Scheme == "https")
            ? u
            : throw new CliException($"--base-uri '{u}' is not an http(s) URL, e.g. https://example.com/metadata/");

    private static string ParseAddress(string s, string option) =>
        EthAddress.TryParse(s.Trim(), out var lower) ? lower : throw new CliException($"{option} '{s}' is not an address: 0x followed by 40 hex characters");

    private static int Positive(int value, string option) =>
        value > 0 ? value : throw new CliException($"{option} must be a positive number");

    private static async Task<Tenancy.Project> RequireProjectAsync(ITenancyStore store, string id, CancellationToken ct) =>
        await store.GetProjectAsync(id, ct).ConfigureAwait(false)
            ?? throw new CliException($"no project with id '{id}'; see: openmint project list");
}
