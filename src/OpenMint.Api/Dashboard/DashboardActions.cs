using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api.Auth;
using OpenMint.Api.Dashboard.Pages;
using OpenMint.Core.Tenancy;
using OpenMint.Core.Webhooks;
using OpenMint.Storage.Operators;

namespace OpenMint.Api.Dashboard;

/// <summary>
/// The dashboard's form posts: sign-in and sign-out, API keys, re-drive, minting on/off. Each checks the anti-forgery
/// token first (400 otherwise), then answers with a redirect to the page it came from (post, redirect, get), except a
/// new API key, whose secret is shown once on the page answering the post.
/// </summary>
internal static class DashboardActions
{
    /// <summary>Apart from the pages' own paths: a component page also answers POST, so a post to its path would be ambiguous.</summary>
    public const string ActionsPath = DashboardServices.BasePath + "/actions";

    public static void MapDashboardActions(this IEndpointRouteBuilder routes)
    {
        var forms = routes.MapGroup(ActionsPath).ExcludeFromDescription().DisableAntiforgery().AddEndpointFilter(RequireAntiforgeryAsync);
        forms.MapPost("/sign-in", SignInAsync).AllowAnonymous();
        var signedIn = forms.MapGroup("").RequireAuthorization();
        signedIn.MapPost("/sign-out", new Func<HttpContext, Task<RedirectHttpResult>>(SignOutAsync));
        signedIn.MapPost("/projects/{projectId}/keys", CreateKeyAsync);
        signedIn.MapPost("/projects/{projectId}/keys/{keyId}/revoke", RevokeKeyAsync);
        signedIn.MapPost("/webhooks/{endpointId}/redrive", RedriveAsync);
        signedIn.MapPost("/collections/{collectionId:long}/minting", SetMintingAsync);
        signedIn.MapPost("/collections/link", LinkCollectionAsync);
    }

    /// <summary>
    /// The framework's anti-forgery check (the hidden field <c>&lt;AntiforgeryToken /&gt;</c> writes, against its cookie),
    /// made explicitly: these handlers read the form themselves rather than binding it.
    /// </summary>
    private static async ValueTask<object?> RequireAntiforgeryAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
        if (!http.Request.HasFormContentType || !await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false))
        {
            return TypedResults.Content(
                "The form was refused: its anti-forgery token is missing or no longer valid. Go back, reload the page and submit it again.",
                "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }
        return await next(context).ConfigureAwait(false);
    }

    private static async Task<RedirectHttpResult> SignInAsync(HttpContext http, OperatorTokenStore tokens, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct).ConfigureAwait(false);
        var token = await tokens.AuthenticateAsync(form["token"].ToString().Trim(), ct).ConfigureAwait(false);
        if (token is null)
        {
            return TypedResults.Redirect(DashboardServices.SignInPath + "?failed=1");
        }
        var identity = new ClaimsIdentity(
            [new Claim(DashboardServices.TokenIdClaim, token.Id), new Claim(ClaimTypes.Name, token.Name ?? token.Prefix + "…")],
            DashboardServices.Scheme);
        await http.SignInAsync(DashboardServices.Scheme, new ClaimsPrincipal(identity)).ConfigureAwait(false);
        var returnUrl = form["returnUrl"].ToString();
        return TypedResults.Redirect(IsDashboardPath(returnUrl) ? returnUrl : DashboardServices.BasePath);
    }

    private static async Task<RedirectHttpResult> SignOutAsync(HttpContext http)
    {
        await http.SignOutAsync(DashboardServices.Scheme).ConfigureAwait(false);
        return TypedResults.Redirect(DashboardServices.SignInPath + "?signed_out=1");
    }

    private static async Task<Results<RazorComponentResult<KeyCreated>, NotFound>> CreateKeyAsync(
        string projectId, ITenancyStore tenancy, TimeProvider time, CancellationToken ct)
    {
        if (await tenancy.GetProjectAsync(projectId, ct).ConfigureAwait(false) is not { } project)
        {
            return TypedResults.NotFound();
        }
        var issued = await ApiKeyIssuer.IssueAsync(tenancy, project.Id, time, ct).ConfigureAwait(false);
        return new RazorComponentResult<KeyCreated>(new { Project = project, Issued = issued });
    }

    private static async Task<RedirectHttpResult> RevokeKeyAsync(string projectId, string keyId, ITenancyStore tenancy, CancellationToken ct)
    {
        var keys = await tenancy.ListApiKeysAsync(projectId, ct).ConfigureAwait(false);
        var revoked = keys.Any(k => k.Id == keyId) && await tenancy.RevokeApiKeyAsync(keyId, ct).ConfigureAwait(false);
        return TypedResults.Redirect($"{DashboardServices.BasePath}/projects?revoked={(revoked ? Uri.EscapeDataString(keyId) : "none")}#{projectId}");
    }

    private static async Task<RedirectHttpResult> RedriveAsync(string endpointId, IWebhookStore webhooks, TimeProvider time, CancellationToken ct)
    {
        var count = await webhooks.RedriveAsync(endpointId, null, time.GetUtcNow(), ct).ConfigureAwait(false);
        return TypedResults.Redirect($"{DashboardServices.BasePath}/webhooks?endpoint={Uri.EscapeDataString(endpointId)}&redriven={count}");
    }

    private static async Task<RedirectHttpResult> SetMintingAsync(long collectionId, HttpContext http, ITenancyStore tenancy, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct).ConfigureAwait(false);
        if (await tenancy.GetCollectionByIdAsync(collectionId, ct).ConfigureAwait(false) is { } collection)
        {
            await tenancy.UpdateCollectionAsync(collection with { MintingEnabled = form["enabled"] == "true" }, ct).ConfigureAwait(false);
        }
        return TypedResults.Redirect($"{DashboardServices.BasePath}/collections#collection-{collectionId}");
    }

    private static async Task<RedirectHttpResult> LinkCollectionAsync(HttpContext http, CollectionLinks links, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct).ConfigureAwait(false);
        var result = await links.LinkAsync(form["chain"].ToString(), form["address"].ToString(), form["project"].ToString(), ct).ConfigureAwait(false);
        var page = DashboardServices.BasePath + "/collections";
        if (result.Linked is not { } linked)
        {
            return TypedResults.Redirect($"{page}?refused={result.Refused}&address={Uri.EscapeDataString(form["address"].ToString())}");
        }
        var role = result.MinterHasRole switch { true => "held", false => "missing", null => "unknown" };
        return TypedResults.Redirect($"{page}?linked={linked.Id}&role={role}#collection-{linked.Id}");
    }

    /// <summary>Only a path inside the dashboard may be a return address (no open redirect).</summary>
    private static bool IsDashboardPath(string url) =>
        url.StartsWith(DashboardServices.BasePath, StringComparison.Ordinal) && !url.StartsWith("//", StringComparison.Ordinal) && !url.Contains('\\', StringComparison.Ordinal);
}
