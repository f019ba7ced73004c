using System.Text.Json.Nodes;
using Microsoft.Playwright;
using OpenMint.Api.Tests.Minting;
using OpenMint.Api.Tests.Pipeline;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Dashboard;

/// <summary>
/// A real Anvil, a real OpenMint host with its pipeline over a fresh SQLite file, and Debian's chromium driven by
/// Playwright (never a downloaded browser). A missing chromium fails with how to install it, as a missing Anvil does.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    private readonly AnvilFixture _anvil = new();
    private IPlaywright? _playwright;

    internal PipelineServer Server { get; private set; } = null!;

    public string Database { get; } = TempSqlite.NewDatabaseValue("dashboard");

    public IBrowser Browser { get; private set; } = null!;

    public string BaseUrl => Server.Http.BaseAddress!.ToString().TrimEnd('/');

    /// <summary>Where the screenshots go: .tmp/dashboard/ in the repository (ignored by git).</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(TestEnvironment.RepoRoot, ".tmp", "dashboard");

    public async Task InitializeAsync()
    {
        var chromium = FindChromium();
        await _anvil.InitializeAsync();
        Server = await PipelineServer.StartAsync(_anvil.Deployment, database: Database);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--disable-gpu", "--disable-dev-shm-usage"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
        await _anvil.DisposeAsync();
    }

    /// <summary>A fresh browser (its own cookies) on a desktop-sized window.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl, ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
        // Playwright's 30 s default ran out once while the whole suite kept 2 cores at load 17 (the sign-in's page load after
        // the form post); waits for something that never comes still fail, only later.
        context.SetDefaultTimeout(90_000);
        context.SetDefaultNavigationTimeout(90_000);
        return await context.NewPageAsync();
    }

    /// <summary><c>openmint admin token create</c>, run as the CLI runs it, against this server's store.</summary>
    public async Task<(string Id, string Token)> CreateOperatorTokenAsync(string name)
    {
        var json = await CliAsync("admin", "token", "create", "--name", name);
        return ((string)json["id"]!, (string)json["token"]!);
    }

    public async Task<JsonNode> CliAsync(params string[] args)
    {
        var (code, output, error) = await CliTests.RunAsync([.. args, "--database", Database, "--json"]);
        Assert.True(code == 0, $"openmint {string.Join(' ', args)} exited {code}: {output} {error}");
        return JsonNode.Parse(output)!;
    }

    /// <summary>Signs in through the sign-in form, starting from a dashboard page as a user would.</summary>
    public static async Task SignInAsync(IPage page, string token, string startAt = "/dashboard")
    {
        await page.GotoAsync(startAt);
        Assert.Contains("/dashboard/sign-in", page.Url, StringComparison.Ordinal);
        await page.FillAsync("#token", token);
        await page.ClickAsync("button:has-text('Sign in')");
        await page.WaitForLoadStateAsync();
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });

    private static string FindChromium()
    {
        // Debian's /usr/bin/chromium is a wrapper script around this binary; either works.
        string[] candidates = [Environment.GetEnvironmentVariable("OPENMINT_CHROMIUM") ?? "", "/usr/lib/chromium/chromium", "/usr/bin/chromium"];
        return candidates.FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(
            "chromium is missing: install Debian's package with `apt-get install -y chromium` (./test does), or set OPENMINT_CHROMIUM to a Chromium binary."
            + (TestEnvironment.IsCi ? " CI=true: the dashboard's browser tests must run." : ""));
    }
}
