using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using OpenMint.Core.Webhooks;
using OpenMint.Core;
using OpenMint.Core.Tenancy;

namespace OpenMint.DevChain;

/// <summary>What <c>.openmint/dev.json</c> holds (issue 3, item 8): everything a newcomer or a script needs to try every path by hand.</summary>
public sealed record DevInfo(
    [property: JsonPropertyName("base_url")] string BaseUrl,
    [property: JsonPropertyName("rpc_url")] string RpcUrl,
    [property: JsonPropertyName("chain_name")] string ChainName,
    [property: JsonPropertyName("chain_id")] long ChainId,
    [property: JsonPropertyName("database")] string Database,
    [property: JsonPropertyName("project_id")] string ProjectId,
    [property: JsonPropertyName("api_key")] string ApiKey,
    [property: JsonPropertyName("owner_address")] string OwnerAddress,
    [property: JsonPropertyName("owner_private_key")] string OwnerPrivateKey,
    [property: JsonPropertyName("minter_address")] string MinterAddress,
    [property: JsonPropertyName("collections")] IReadOnlyDictionary<string, string> Collections,
    [property: JsonPropertyName("other_project_api_key")] string OtherProjectApiKey,
    [property: JsonPropertyName("webhooks"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<DevWebhook>? Webhooks = null);

/// <summary>A webhook endpoint <c>openmint dev --webhook-url</c> registered for the demo project, with its secret.</summary>
public sealed record DevWebhook(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("secret")] string Secret);

/// <summary>
/// Provisions the store for a dev chain: the chain (minter key by file reference), a demo project and a second
/// project each with an API key, and the preset collections. Used by <c>openmint dev</c> and its tests.
/// </summary>
public static class DevBootstrap
{
    public const string ChainName = "anvil";
    public const string MinterKeyFileName = "anvil-minter.key";
    public const string DevJsonFileName = "dev.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Writes the minter key file (0600) under <paramref name="stateDir"/> and fills the store; returns dev.json's content but base_url.</summary>
    public static async Task<DevInfo> ProvisionAsync(ITenancyStore store, string databaseValue, DevChainDeployment chain, string stateDir, TimeProvider time, CancellationToken ct)
    {
        Directory.CreateDirectory(stateDir);
        var keyFile = Path.GetFullPath(Path.Combine(stateDir, MinterKeyFileName));
        WritePrivateFile(keyFile, chain.MinterPrivateKey + "\n");

        var now = time.GetUtcNow();
        // Confirmations 0: under automine no later block may ever come to confirm the last mint.
        await store.UpsertChainAsync(new ChainConfig(ChainName, chain.ChainId, [chain.RpcUrl], "file:" + keyFile, 0, now), ct).ConfigureAwait(false);

        var demo = await CreateProjectAsync(store, "Demo", chain.OwnerAddress, time, ct).ConfigureAwait(false);
        var demoKey = await CreateApiKeyAsync(store, demo.Id, time, ct).ConfigureAwait(false);
        var other = await CreateProjectAsync(store, "Other project", chain.OwnerAddress, time, ct).ConfigureAwait(false);
        var otherKey = await CreateApiKeyAsync(store, other.Id, time, ct).ConfigureAwait(false);

        foreach (var c in chain.Collections)
        {
            var collection = new Collection(0, ChainName, c.Address, demo.Id,
                c.Kind == "erc1155" ? CollectionKind.Erc1155 : CollectionKind.Erc721, Variant(c.Contract),
                BaseUriOverride: null, c.MintingEnabled, now);
            var existing = await store.GetCollectionAsync(ChainName, c.Address, ct).ConfigureAwait(false);
            if (existing is null)
            {
                await store.AddCollectionAsync(collection, ct).ConfigureAwait(false);
            }
            else
            {
                await store.UpdateCollectionAsync(collection with { Id = existing.Id, CreatedAt = existing.CreatedAt }, ct).ConfigureAwait(false);
            }
        }

        return new DevInfo("", chain.RpcUrl, ChainName, chain.ChainId, databaseValue, demo.Id, demoKey, chain.OwnerAddress, chain.OwnerPrivateKey,
            chain.MinterAddress, chain.Addresses, otherKey);
    }

    public static PresetVariant Variant(string contract) => contract switch
    {
        "ImmutableERC721V2" => PresetVariant.Erc721V2,
        "ImmutableERC721" => PresetVariant.Erc721V1,
        "ImmutableERC721MintByID" => PresetVariant.Erc721MintById,
        "ImmutableERC1155" => PresetVariant.Erc1155,
        _ => PresetVariant.Unknown,
    };

    /// <summary>Writes dev.json (0600: it holds keys) atomically.</summary>
    /// <summary>Registers each of <paramref name="urls"/> as a webhook endpoint of the demo project; returns <paramref name="info"/> listing them.</summary>
    public static async Task<DevInfo> AddWebhooksAsync(IWebhookStore webhooks, ITenancyStore tenancy, DevInfo info, IReadOnlyList<string> urls, TimeProvider time, CancellationToken ct)
    {
        var added = new List<DevWebhook>();
        foreach (var url in urls)
        {
            var result = await WebhookRegistration.AddAsync(webhooks, tenancy, info.ProjectId, url, [], time, ct).ConfigureAwait(false);
            var endpoint = result.Endpoint ?? throw new ArgumentException("--webhook-url: " + result.Error);
            added.Add(new DevWebhook(endpoint.Id, endpoint.Url, endpoint.Secret));
        }
        return info with { Webhooks = added };
    }

    public static string WriteDevJson(DevInfo info, string stateDir)
    {
        var path = Path.Combine(stateDir, DevJsonFileName);
        WritePrivateFile(path, JsonSerializer.Serialize(info, Json) + "\n");
        return path;
    }

    public static DevInfo ReadDevJson(string path) =>
        JsonSerializer.Deserialize<DevInfo>(File.ReadAllText(path), Json) ?? throw new InvalidDataException(path + " is empty");

    private static async Task<Project> CreateProjectAsync(ITenancyStore store, string name, string owner, TimeProvider time, CancellationToken ct)
    {
        var project = new Project(UuidV7.New(time).ToString(), name, owner, Project.DefaultMintLimitPerMinute, Project.DefaultRefreshRequestsPerSecond,
            Project.DefaultRefreshTokensPerHour, Project.DefaultRefreshMaxTokensPerRequest, time.GetUtcNow());
        await store.CreateProjectAsync(project, ct).ConfigureAwait(false);
        return project;
    }

    /// <summary>Same shape as the CLI's keys: "sk_om_" + 32 random bytes base64url; only the hash is stored.</summary>
    private static async Task<string> CreateApiKeyAsync(ITenancyStore store, string projectId, TimeProvider time, CancellationToken ct)
    {
        var secret = "sk_om_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var key = new ApiKey(UuidV7.New(time).ToString(), projectId, secret[..ApiKeySecrets.PrefixLength], time.GetUtcNow(), null);
        await store.CreateApiKeyAsync(key, ApiKeySecrets.Hash(secret), ct).ConfigureAwait(false);
        return secret;
    }

    private static void WritePrivateFile(string path, string content)
    {
        var tmp = path + ".tmp";
        File.Delete(tmp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created 0600 from the start: never readable by others, not even briefly.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(tmp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
