using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using OpenMint.Api.Tests.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Core.Webhooks;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser (Debian's chromium through Playwright) against a real host minting on Anvil:
/// sign-in with a CLI-made operator token, finding a minted request, API keys, revocation, anti-forgery, and a
/// screenshot of every page under .tmp/dashboard/.
/// </summary>
public sealed class DashboardBrowserTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private const string Owner = "0x1000000000000000000000000000000000000001";

    [Fact]
    public async Task an_operator_signs_in_with_a_cli_token_and_finds_a_minted_request_by_reference_id()
    {
        var reference = "dash-" + Guid.NewGuid().ToString("N")[..10];
        await fixture.Server.PostAsync("erc721", new JsonArray(PipelineServer.Asset(reference, Owner, metadata: new JsonObject { ["name"] = "Dashboard sword" })));
        var minted = await fixture.Server.WaitAsync("erc721", reference);
        Assert.Equal("succeeded", (string?)minted["status"]);

        var (_, token) = await fixture.CreateOperatorTokenAsync("browser");
        var page = await fixture.NewPageAsync();
        await DashboardFixture.SignInAsync(page, token);
        Assert.EndsWith("/dashboard", page.Url, StringComparison.Ordinal);
        Assert.Contains("reachable", await page.InnerTextAsync("#chains"), StringComparison.Ordinal);

        await page.ClickAsync("nav >> text=Mint requests");
        await page.FillAsync("input[name=reference]", reference);
        await page.ClickAsync("button:has-text('Filter')");
        var rows = page.Locator("#mint-requests tbody tr");
        Assert.Equal(1, await rows.CountAsync());
        Assert.Contains("succeeded", await rows.InnerTextAsync(), StringComparison.Ordinal);

        await page.ClickAsync($"#mint-requests >> text={reference}");
        Assert.Matches("/dashboard/mint-requests/[0-9]+$", page.Url);
        var facts = await page.InnerTextAsync("#request");
        Assert.Contains(reference, facts, StringComparison.Ordinal);
        Assert.Contains((string)minted["transaction_hash"]!, facts, StringComparison.Ordinal);
        Assert.Contains("Dashboard sword", facts, StringComparison.Ordinal);
        Assert.Contains("succeeded", await page.InnerTextAsync("#events"), StringComparison.Ordinal);
        Assert.Contains("done", await page.InnerTextAsync("table.txs"), StringComparison.Ordinal);
        var attempts = await page.InnerTextAsync("#attempts");
        Assert.Contains("gwei", attempts, StringComparison.Ordinal);
        Assert.Contains("mint", attempts, StringComparison.Ordinal);
        await DashboardFixture.ScreenshotAsync(page, "mint-request");
    }

    [Fact]
    public async Task an_api_key_created_on_the_dashboard_is_shown_once_and_revoking_it_locks_the_api_out()
    {
        var (_, token) = await fixture.CreateOperatorTokenAsync("keys");
        var page = await fixture.NewPageAsync();
        await DashboardFixture.SignInAsync(page, token, "/dashboard/projects");
        Assert.EndsWith("/dashboard/projects", page.Url, StringComparison.Ordinal);
        var project = fixture.Server.Tenancy.Project.Id;

        await page.ClickAsync($"[id='{project}'] >> button:has-text('Create API key')");
        var secret = (await page.InnerTextAsync("#secret")).Trim();
        Assert.StartsWith("sk_om_", secret, StringComparison.Ordinal);
        await DashboardFixture.ScreenshotAsync(page, "key-created");
        Assert.Equal(HttpStatusCode.OK, await ListMintRequestsAsync(secret));

        await page.GotoAsync("/dashboard/projects");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        var row = page.Locator($"tr:has(td:text-is('{secret[..12]}…'))");
        Assert.Contains("active", await row.InnerTextAsync(), StringComparison.Ordinal);
        await row.Locator("button:has-text('Revoke')").ClickAsync();
        Assert.Contains("revoked", await page.InnerTextAsync("p.notice"), StringComparison.Ordinal);
        Assert.Contains("revoked", await page.Locator($"tr:has(td:text-is('{secret[..12]}…'))").InnerTextAsync(), StringComparison.Ordinal);

        // The API caches a verified key for a few seconds.
        await Eventually.TrueAsync(async () => await ListMintRequestsAsync(secret) == HttpStatusCode.Unauthorized, "the revoked key to be refused");
    }

    [Fact]
    public async Task a_revoked_operator_token_no_longer_signs_in_and_its_open_session_ends()
    {
        var (id, token) = await fixture.CreateOperatorTokenAsync("to-revoke");
        var page = await fixture.NewPageAsync();
        await DashboardFixture.SignInAsync(page, token, "/dashboard/collections");
        Assert.EndsWith("/dashboard/collections", page.Url, StringComparison.Ordinal);

        Assert.Equal(true, (bool?)(await fixture.CliAsync("admin", "token", "revoke", "--id", id))["revoked"]);
        await page.GotoAsync("/dashboard/collections");
        Assert.Contains("/dashboard/sign-in", page.Url, StringComparison.Ordinal);

        await page.FillAsync("#token", token);
        await page.ClickAsync("button:has-text('Sign in')");
        Assert.Contains("/dashboard/sign-in?failed=1", page.Url, StringComparison.Ordinal);
        Assert.Contains("unknown or revoked", await page.InnerTextAsync("[role=alert]"), StringComparison.Ordinal);
        await page.GotoAsync("/dashboard");
        Assert.Contains("/dashboard/sign-in", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_form_post_without_the_antiforgery_token_is_refused()
    {
        var (_, token) = await fixture.CreateOperatorTokenAsync("forgery");
        var page = await fixture.NewPageAsync();
        await DashboardFixture.SignInAsync(page, token, "/dashboard/projects");
        var project = fixture.Server.Tenancy.Project.Id;
        var keysBefore = await fixture.Server.ScalarAsync("SELECT COUNT(*) FROM api_key");

        // The session cookie goes along (same browser context), the form's hidden token does not.
        var forged = await page.Context.APIRequest.PostAsync($"/dashboard/actions/projects/{project}/keys",
            new APIRequestContextOptions { Form = page.Context.APIRequest.CreateFormData(), MaxRedirects = 0 });
        Assert.Equal(400, forged.Status);
        Assert.Contains("anti-forgery", await forged.TextAsync(), StringComparison.Ordinal);

        // A token from another session does not pass either.
        var other = await fixture.NewPageAsync();
        await other.GotoAsync("/dashboard/sign-in");
        var foreign = await other.InputValueAsync("input[name=__RequestVerificationToken]");
        var form = page.Context.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", foreign);
        var crossed = await page.Context.APIRequest.PostAsync($"/dashboard/actions/projects/{project}/keys", new APIRequestContextOptions { Form = form, MaxRedirects = 0 });
        Assert.Equal(400, crossed.Status);
        Assert.Equal(keysBefore, await fixture.Server.ScalarAsync("SELECT COUNT(*) FROM api_key"));

        // Signed out, a post does not reach the handler at all: it is sent to sign in.
        var anonymous = await fixture.NewPageAsync();
        var response = await anonymous.Context.APIRequest.PostAsync($"/dashboard/actions/projects/{project}/keys",
            new APIRequestContextOptions { Form = anonymous.Context.APIRequest.CreateFormData(), MaxRedirects = 0 });
        Assert.True(response.Status is 400 or 302, $"anonymous post answered {response.Status}");
        Assert.Equal(keysBefore, await fixture.Server.ScalarAsync("SELECT COUNT(*) FROM api_key"));
    }

    [Fact]
    public async Task every_page_renders_for_a_signed_in_operator_and_its_buttons_act()
    {
        var reference = "shot-" + Guid.NewGuid().ToString("N")[..10];
        await fixture.Server.PostAsync("erc721", new JsonArray(PipelineServer.Asset(reference, Owner)));
        await fixture.Server.WaitAsync("erc721", reference);
        var endpoint = await FailedWebhookDeliveryAsync();

        var anonymous = await fixture.NewPageAsync();
        await anonymous.GotoAsync("/dashboard/transactions");
        Assert.Contains("/dashboard/sign-in?ReturnUrl=%2Fdashboard%2Ftransactions", anonymous.Url, StringComparison.Ordinal);
        await DashboardFixture.ScreenshotAsync(anonymous, "sign-in");

        var (_, token) = await fixture.CreateOperatorTokenAsync("screenshots");
        var page = await fixture.NewPageAsync();
        await DashboardFixture.SignInAsync(page, token);
        var pages = new (string Path, string Title, string Name)[]
        {
            ("/dashboard", "Overview", "overview"),
            ("/dashboard/mint-requests", "Mint requests", "mint-requests"),
            ("/dashboard/transactions", "Transactions", "transactions"),
            ("/dashboard/refreshes", "Metadata refreshes", "refreshes"),
            ("/dashboard/webhooks", "Webhooks", "webhooks"),
            ("/dashboard/projects", "Projects & API keys", "projects"),
            ("/dashboard/collections", "Collections", "collections"),
        };
        foreach (var (path, title, name) in pages)
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(200, response!.Status);
            Assert.Equal(title, await page.InnerTextAsync("h1"));
            Assert.Equal(0, await page.Locator("script").CountAsync());
            await DashboardFixture.ScreenshotAsync(page, name);
        }
        await page.GotoAsync("/dashboard");
        var chain = await page.InnerTextAsync("#chains tbody");
        Assert.Contains(PipelineTenancy.ChainName, chain, StringComparison.Ordinal);
        Assert.Contains("reachable", chain, StringComparison.Ordinal);
        var projectRow = page.Locator($"#projects tbody tr:has-text('{fixture.Server.Tenancy.Project.Name}')");
        Assert.True(int.Parse(await projectRow.Locator("td").Nth(1).InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture) >= 1, "accepted in the last hour");
        Assert.True(int.Parse(await projectRow.Locator("td").Nth(2).InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture) >= 1, "succeeded in the last hour");

        await page.GotoAsync("/dashboard/transactions?state=done");
        Assert.True(await page.Locator("table.txs tbody tr").CountAsync() >= 1);

        await RedriveAsync(page, endpoint);
        await ToggleMintingAsync(page, fixture.Server.Tenancy.Collections["erc1155"]);

        await page.ClickAsync("button:has-text('Sign out')");
        Assert.Contains("/dashboard/sign-in?signed_out=1", page.Url, StringComparison.Ordinal);
        await page.GotoAsync("/dashboard");
        Assert.Contains("/dashboard/sign-in", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_collection_linked_on_the_dashboard_gets_its_preset_from_the_contract_and_its_minter_role_checked()
    {
        // A second name for the same Anvil, so the deployment's contracts can be linked again.
        var anvil = (await fixture.Server.Store.Tenancy.GetChainAsync(PipelineTenancy.ChainName, CancellationToken.None))!;
        var chain = "link-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.Server.Store.Tenancy.UpsertChainAsync(anvil with { Name = chain }, CancellationToken.None);
        var (_, token) = await fixture.CreateOperatorTokenAsync("links");
        var page = await fixture.NewPageAsync();
        await DashboardFixture.SignInAsync(page, token, "/dashboard/collections");
        Assert.Equal("missing", await page.InnerTextAsync($"#collection-{fixture.Server.Tenancy.Collections["erc721_no_minter_role"].Id} td.minter-role"));
        Assert.Equal("held", await page.InnerTextAsync($"#collection-{fixture.Server.Tenancy.Collections["erc721"].Id} td.minter-role"));

        async Task<string> LinkAsync(string address, string selector)
        {
            await page.SelectOptionAsync("#link select[name=chain]", chain);
            await page.FillAsync("#link input[name=address]", address);
            await page.ClickAsync("#link button:has-text('Link')");
            return await page.InnerTextAsync(selector);
        }

        var ready = await LinkAsync(fixture.Server.Address("erc721"), "#link-result");
        Assert.Contains("Erc721V2", ready, StringComparison.Ordinal);
        Assert.Contains("ready to mint", ready, StringComparison.Ordinal);
        var stored = (await fixture.Server.Store.Tenancy.GetCollectionAsync(chain, fixture.Server.Address("erc721"), CancellationToken.None))!;
        Assert.Equal((CollectionKind.Erc721, PresetVariant.Erc721V2, true), (stored.Kind, stored.Variant, stored.MintingEnabled));

        var noRole = fixture.Server.Address("erc721_no_minter_role");
        var warning = await LinkAsync(noRole, "#link-result");
        Assert.Contains("lacks MINTER_ROLE", warning, StringComparison.Ordinal);
        Assert.Contains($"openmint collection grant-minter --chain {chain} --address {noRole} --admin-key-file", warning, StringComparison.Ordinal);
        Assert.Equal("Erc1155", (await LinkAsync(fixture.Server.Address("erc1155"), "#link-result")).Split(' ')[1]);
        await DashboardFixture.ScreenshotAsync(page, "collection-linked");

        Assert.Contains("already linked", await LinkAsync(noRole, "[role=alert]"), StringComparison.Ordinal);
        Assert.Contains("neither ERC721 nor ERC1155", await LinkAsync(Owner, "[role=alert]"), StringComparison.Ordinal);
        Assert.Contains("is not an address", await LinkAsync("0x12", "[role=alert]"), StringComparison.Ordinal);
        Assert.Null(await fixture.Server.Store.Tenancy.GetCollectionAsync(chain, Owner, CancellationToken.None));
    }

    private async Task RedriveAsync(IPage page, string endpoint)
    {
        await page.GotoAsync($"/dashboard/webhooks?endpoint={endpoint}&status=failed");
        Assert.Contains("connection refused", await page.InnerTextAsync("#deliveries"), StringComparison.Ordinal);
        await page.ClickAsync($"#endpoints tr:has-text('{endpoint}') >> button:has-text('Re-drive failed')");
        Assert.Contains("1 failed deliveries queued again", await page.InnerTextAsync("p.notice"), StringComparison.Ordinal);
        Assert.Equal(1, await fixture.Server.ScalarAsync("SELECT COUNT(*) FROM webhook_delivery WHERE endpoint_id = @endpoint AND status = 'pending'", new { endpoint }));
        await DashboardFixture.ScreenshotAsync(page, "webhook-deliveries");
    }

    private async Task ToggleMintingAsync(IPage page, Collection collection)
    {
        await page.GotoAsync("/dashboard/collections");
        await page.ClickAsync($"#collection-{collection.Id} >> button:has-text('Turn minting off')");
        Assert.Equal("off", await page.InnerTextAsync($"#collection-{collection.Id} td.minting"));
        Assert.False((await fixture.Server.Store.Tenancy.GetCollectionByIdAsync(collection.Id, CancellationToken.None))!.MintingEnabled);
        await page.ClickAsync($"#collection-{collection.Id} >> button:has-text('Turn minting on')");
        Assert.True((await fixture.Server.Store.Tenancy.GetCollectionByIdAsync(collection.Id, CancellationToken.None))!.MintingEnabled);
    }

    private async Task<HttpStatusCode> ListMintRequestsAsync(string apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/chains/anvil/collections/{fixture.Server.Address("erc721")}/nfts/mint-requests");
        request.Headers.TryAddWithoutValidation("x-immutable-api-key", apiKey);
        using var http = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>A disabled endpoint with one delivery that failed (the worker leaves a disabled endpoint alone).</summary>
    private async Task<string> FailedWebhookDeliveryAsync()
    {
        var id = Guid.NewGuid().ToString();
        await fixture.Server.Store.Webhooks.AddEndpointAsync(new WebhookEndpoint(id, fixture.Server.Tenancy.Project.Id, "https://hooks.example.test/openmint", [],
            "whsec_" + Convert.ToBase64String(new byte[24]), null, null, false, "paused for the test", DateTimeOffset.UtcNow), CancellationToken.None);
        await fixture.Server.ScalarAsync(
            """
            INSERT INTO webhook_delivery (endpoint_id, event_seq, event_id, event_name, ordering_key, payload, status, attempts, next_attempt_at, queued_at, last_status_code, last_error)
            VALUES (@id, 1000000, 'evt-test', 'imtbl_zkevm_mint_request_updated', 'k', '{}', 'failed', 3, 0, 0, NULL, 'connection refused')
            """, new { id });
        return id;
    }
}
