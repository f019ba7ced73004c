using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;

namespace OpenMint.Api.Dashboard;

/// <summary>The base of every dashboard page: the request it renders for (static server rendering), and its cancellation.</summary>
public abstract class DashboardPage : ComponentBase
{
    [CascadingParameter]
    public HttpContext? Http { get; set; }

    protected CancellationToken Aborted => Http?.RequestAborted ?? CancellationToken.None;

    protected void SetStatus(int status)
    {
        if (Http is { Response.HasStarted: false })
        {
            Http.Response.StatusCode = status;
        }
    }
}
