using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api.Dashboard;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Dashboard;

/// <summary>The dashboard's cookie authentication runs for <c>/dashboard</c> only: API requests do not pay for it.</summary>
public sealed class DashboardScopeTests
{
    [Fact]
    public async Task authentication_runs_for_the_dashboard_and_not_for_api_requests()
    {
        var ct = CancellationToken.None;
        var app = await OpenMintServer.BuildAsync(new ServerOptions(TempSqlite.NewDatabaseValue("scope"), "http://127.0.0.1:0", RunWorkers: false), ct);
        await using (app)
        {
            // The authentication middleware sets this feature first thing on every request it runs for.
            app.MapGet("/probe/authenticated", (HttpContext c) => c.Features.Get<IAuthenticationFeature>() is null ? "no" : "yes");
            await app.StartAsync(ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(address) };

            Assert.Equal("no", await http.GetStringAsync("/probe/authenticated"));
            var dashboard = await http.GetAsync(DashboardServices.BasePath, ct);
            Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode); // still signed out there: to the sign-in page
            Assert.Contains(DashboardServices.SignInPath, dashboard.Headers.Location!.ToString(), StringComparison.Ordinal);
            await app.StopAsync(ct);
        }
    }
}
