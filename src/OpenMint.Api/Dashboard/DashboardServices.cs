using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Storage;
using OpenMint.Storage.Dashboard;
using OpenMint.Storage.Operators;
using OpenMint.Storage.Telemetry;

namespace OpenMint.Api.Dashboard;

/// <summary>
/// The operator dashboard at <c>/dashboard</c>: Razor components rendered on the server (static SSR, no JavaScript),
/// a cookie session opened with an operator token (<c>openmint admin token create</c>), and the framework's
/// anti-forgery on every form that changes something. Authentication, authorization and anti-forgery run for
/// <c>/dashboard</c> only, so the API's requests do not pay for them.
/// </summary>
public static class DashboardServices
{
    public const string Scheme = "OpenMintDashboard";
    public const string BasePath = "/dashboard";
    public const string SignInPath = BasePath + "/sign-in";
    public const string TokenIdClaim = "openmint:operator_token_id";

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddRazorComponents();
        // Cookie and anti-forgery keys live in memory: nothing written beside the store, no key file to protect. A restart
        // (or another instance) asks the operator to sign in again.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "openmint.antiforgery";
            o.Cookie.Path = BasePath;
            o.Cookie.SameSite = SameSiteMode.Strict;
        });
        services.AddAuthentication(Scheme).AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "openmint.dashboard";
            o.Cookie.Path = BasePath;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.LoginPath = SignInPath;
            o.AccessDeniedPath = SignInPath;
            o.Events.OnValidatePrincipal = EndSessionOfRevokedTokenAsync;
        });
        services.AddAuthorizationBuilder().AddDefaultPolicy("operator", p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());
        services.AddSingleton(sp => new DashboardQueries(sp.GetRequiredService<Database>()));
        services.AddSingleton(sp => new SignerRows(sp.GetRequiredService<Database>()));
        services.AddSingleton<ChainOverview>();
        services.AddSingleton<CollectionLinks>();
        return services;
    }

    public static void MapDashboard(this WebApplication app)
    {
        // WebApplication adds UseAuthentication/UseAuthorization to the whole pipeline whenever a scheme is registered and the
        // app did not call them itself, which it notices through these two properties (UseAuthentication/UseAuthorization set
        // them; calls inside the branch below set them on the branch only). Without them every API request paid for the
        // dashboard's cookie handler (~3 % of a single-asset create's CPU).
        var properties = ((IApplicationBuilder)app).Properties;
        properties["__AuthenticationMiddlewareSet"] = true;
        properties["__AuthorizationMiddlewareSet"] = true;
        app.UseWhen(c => c.Request.Path.StartsWithSegments(BasePath, StringComparison.Ordinal), branch =>
        {
            branch.UseAuthentication();
            branch.UseAuthorization();
            branch.UseAntiforgery();
        });
        app.MapRazorComponents<App>().RequireAuthorization().ExcludeFromDescription();
        app.MapDashboardActions();
    }

    /// <summary>A session lasts only as long as its operator token: revoking the token ends it on the next page.</summary>
    private static async Task EndSessionOfRevokedTokenAsync(CookieValidatePrincipalContext context)
    {
        var id = context.Principal?.FindFirstValue(TokenIdClaim);
        var tokens = context.HttpContext.RequestServices.GetRequiredService<OperatorTokenStore>();
        if (id is null || !await tokens.IsActiveAsync(id, context.HttpContext.RequestAborted).ConfigureAwait(false))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme).ConfigureAwait(false);
        }
    }
}
