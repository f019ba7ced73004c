using System.CommandLine;
using System.Text.Json.Nodes;
using OpenMint.Chain;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using Tenancy = OpenMint.Core.Tenancy;

namespace OpenMint.Cli;

/// <summary>
/// <c>openmint collection add|update|list|grant-minter</c>: the contract's kind and preset are read from the contract,
/// and whether the chain's minter holds MINTER_ROLE is checked (a collection without it is linked, with the fix printed).
/// </summary>
internal static class CollectionCommands
{
    private sealed record Options(Option<string> Chain, Option<string> Address, Option<string?> Project, Option<string?> Kind, Option<string?> Variant,
        Option<string?> BaseUri, Option<bool?> Minting);

    public static Command Collection()
    {
        var add = AddOrUpdate(new Command("add", "Link a deployed contract to a project (kind and preset read from the contract; MINTER_ROLE checked)"), true);
        var update = AddOrUpdate(new Command("update", "Change a collection's project, kind, variant, base URI or minting flag"), false);
        var listProject = new Option<string?>("--project") { Description = "Only this project's collections" };
        var list = new Command("list", "List collections") { listProject };
        list.WithStore(async (parse, store, ct) =>
        {
            var collections = await store.ListCollectionsAsync(parse.GetValue(listProject), ct).ConfigureAwait(false);
            return new CliResult(Cli.ToJson(collections), collections.Count == 0 ? "no collections; add one with: openmint collection add --chain <name> --address <0x...> --project <id>"
                : string.Join('\n', collections.Select(c => $"{c.ChainName}\t{c.Address}\t{KindName(c.Kind)}\t{c.Variant}\tproject {c.ProjectId}\tminting {(c.MintingEnabled ? "enabled" : "disabled")}")));
        });
        return new Command("collection", "Collections (contracts) a project mints into") { add, update, list, MinterRoleGrant.Command(), CollectionDeploy.Command() };
    }

    private static Command AddOrUpdate(Command command, bool isAdd)
    {
        var o = new Options(
            new Option<string>("--chain") { Description = "Chain name (see: openmint chain list)", Required = true },
            new Option<string>("--address") { Description = "Contract address", Required = true },
            new Option<string?>("--project") { Description = "Project id", Required = isAdd },
            new Option<string?>("--kind") { Description = "erc721 or erc1155; detected with ERC-165 when omitted" },
            new Option<string?>("--variant") { Description = "Preset: erc721-v2, erc721-v1, erc721-mint-by-id, erc1155; detected from the contract when omitted" },
            new Option<string?>("--base-uri") { Description = "Metadata base URI override for refreshes (empty string clears it)" },
            new Option<bool?>("--minting-enabled") { Description = "true or false (default true on add)" });
        command.Options.Add(o.Chain);
        command.Options.Add(o.Address);
        command.Options.Add(o.Project);
        command.Options.Add(o.Kind);
        command.Options.Add(o.Variant);
        command.Options.Add(o.BaseUri);
        command.Options.Add(o.Minting);
        return command.WithStore((parse, store, ct) => AddOrUpdateAsync(parse, store, o, isAdd, ct));
    }

    private static async Task<CliResult> AddOrUpdateAsync(ParseResult parse, ITenancyStore store, Options o, bool isAdd, CancellationToken ct)
    {
        var chainName = parse.GetValue(o.Chain)!;
        var chain = await store.GetChainAsync(chainName, ct).ConfigureAwait(false)
            ?? throw new CliException($"unknown chain '{chainName}'; add it first: openmint chain add --name {chainName} --chain-id <id> --rpc-url <url> --minter-key-file <path>");
        var addr = AdminCommands.ParseAddress(parse.GetValue(o.Address)!, "--address");
        var existing = await store.GetCollectionAsync(chainName, addr, ct).ConfigureAwait(false);
        if (isAdd && existing is not null)
        {
            throw new CliException($"collection {addr} on {chainName} already exists (project {existing.ProjectId}); change it with: openmint collection update --chain {chainName} --address {addr} ...");
        }
        if (!isAdd && existing is null)
        {
            throw new CliException($"no collection {addr} on {chainName}; add it with: openmint collection add --chain {chainName} --address {addr} --project <id>");
        }
        var projectId = parse.GetValue(o.Project) ?? existing!.ProjectId;
        await AdminCommands.RequireProjectAsync(store, projectId, ct).ConfigureAwait(false);
        var (k, v, detected) = await ResolveKindAsync(parse, o, chain, addr, existing, ct).ConfigureAwait(false);
        var uri = parse.GetValue(o.BaseUri) is { } u ? (u.Length == 0 ? null : ValidateUri(u)) : existing?.BaseUriOverride;
        var enabled = parse.GetValue(o.Minting) ?? existing?.MintingEnabled ?? true;

        var collection = new Tenancy.Collection(existing?.Id ?? 0, chainName, addr, projectId, k, v, uri, enabled, existing?.CreatedAt ?? DateTimeOffset.UtcNow);
        if (isAdd)
        {
            collection = await store.AddCollectionAsync(collection, ct).ConfigureAwait(false);
        }
        else
        {
            await store.UpdateCollectionAsync(collection, ct).ConfigureAwait(false);
        }
        var roles = await MinterRoleGrant.CheckAsync(chain, addr, ct).ConfigureAwait(false);
        var json = Cli.ToJson(collection).AsObject();
        json["kind_detected"] = detected;
        json["minter_address"] = roles[0].Minter;
        json["minter_has_role"] = MinterRole.All(roles);
        json["minters"] = new JsonArray([.. roles.Select(r => r.ToJson())]);
        var text = $"collection {addr} on {chainName} {(isAdd ? "added" : "updated")}: {KindName(k)}, {v}{(detected ? " (read from the contract)" : "")}, project {projectId}, minting {(enabled ? "enabled" : "disabled")}{(uri is null ? "" : ", base URI " + uri)}";
        return new CliResult(json, text + "\n" + string.Join('\n', roles.Select(r => r.Text(chainName, addr))));
    }

    /// <summary>Kind and preset: as given, else read from the contract (so a MintByID or legacy contract is not taken for V2).</summary>
    private static async Task<(CollectionKind Kind, PresetVariant Variant, bool Detected)> ResolveKindAsync(
        ParseResult parse, Options o, ChainConfig chain, string addr, Tenancy.Collection? existing, CancellationToken ct)
    {
        CollectionKind? k = parse.GetValue(o.Kind) is { } kindText ? ParseKind(kindText) : existing?.Kind;
        PresetVariant? v = parse.GetValue(o.Variant) is { } variantText ? ParseVariant(variantText) : existing is not null && existing.Kind == k ? existing.Variant : null;
        var detected = false;
        if (v is null)
        {
            var found = await DetectVariantAsync(chain, addr, required: k is null, ct).ConfigureAwait(false);
            if (found is not null && (k is null || (found == PresetVariant.Erc1155) == (k == CollectionKind.Erc1155)))
            {
                v = found;
                detected = true;
            }
            v ??= k == CollectionKind.Erc1155 ? PresetVariant.Erc1155 : PresetVariant.Erc721V2;
            k ??= v == PresetVariant.Erc1155 ? CollectionKind.Erc1155 : CollectionKind.Erc721;
        }
        k ??= v == PresetVariant.Erc1155 ? CollectionKind.Erc1155 : CollectionKind.Erc721;
        if ((v == PresetVariant.Erc1155) != (k == CollectionKind.Erc1155))
        {
            throw new CliException($"--variant {v} does not fit kind {k}: ERC1155 collections use erc1155, ERC721 ones erc721-v2, erc721-v1 or erc721-mint-by-id");
        }
        return (k.Value, v.Value, detected);
    }

    /// <summary>The preset, from the contract; null when it cannot be read and <paramref name="required"/> is false.</summary>
    private static async Task<PresetVariant?> DetectVariantAsync(ChainConfig chain, string address, bool required, CancellationToken ct)
    {
        if (chain.RpcUrls.Count == 0)
        {
            return required ? throw new CliException($"cannot detect the kind of {address}: chain {chain.Name} has no RPC URL; pass --kind erc721 or --kind erc1155") : null;
        }
        using var http = new HttpClient();
        var eth = new EthClient(new JsonRpcClient(http, chain.RpcUrls.Select(u => new Uri(u)).ToList(), TimeSpan.FromSeconds(10)));
        try
        {
            var variant = await CollectionKindDetector.DetectVariantAsync(eth, address, ct).ConfigureAwait(false);
            return variant is null && required
                ? throw new CliException($"{address} on {chain.Name} declares neither ERC721 ({CollectionKindDetector.Erc721InterfaceId}) nor ERC1155 ({CollectionKindDetector.Erc1155InterfaceId}) through ERC-165; check the address or pass --kind")
                : variant;
        }
        catch (RpcTransportException ex)
        {
            return required ? throw new CliException($"cannot reach {chain.RpcUrls[0]} to detect the kind of {address} ({ex.Message}); start the node or pass --kind erc721|erc1155") : null;
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

}
