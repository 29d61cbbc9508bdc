using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Turbine.Server.Hosting;
using Turbine.Server.Http;

namespace Turbine.Server.Dashboard;

/// <summary>
/// The web dashboard (docs/DASHBOARD.md): its page and modules at <c>/dashboard/</c>, built into the server (no CDN,
/// works offline), and the figures it draws: <c>/dashboard/api/snapshot</c>, <c>/dashboard/api/history</c> and the
/// server-sent-events stream <c>/dashboard/api/stream</c>. Everything is behind the management rules: the page needs
/// what the repository API needs of the network, and every figure the token too. Actions go to the management API.
/// </summary>
internal static class DashboardEndpoints
{
    private const string ResourcePrefix = "dashboard/";

    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/dashboard/{**path}", ServeAssetAsync);
        // Their services exist only while the dashboard is on: resolved once the call has passed the guard.
        app.MapGet("/dashboard/api/snapshot", (HttpContext context) => GuardedAsync(context, services =>
            WriteAsync(context, services.GetRequiredService<SnapshotHistory>().Latest ?? services.GetRequiredService<SnapshotTaker>().Take(), DashboardJson.Default.DashboardSnapshot)));
        app.MapGet("/dashboard/api/history", (HttpContext context) => GuardedAsync(context, services =>
        {
            var seconds = double.TryParse(context.Request.Query["seconds"], NumberStyles.Float, CultureInfo.InvariantCulture, out var asked) && asked > 0 ? Math.Min(asked, 86_400) : 3600;
            var since = services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds() - (long)(seconds * 1000);
            return WriteAsync(context, (IReadOnlyList<DashboardSnapshot>)services.GetRequiredService<SnapshotHistory>().Since(since), DashboardJson.Default.IReadOnlyListDashboardSnapshot);
        }));
        app.MapGet("/dashboard/api/stream", (HttpContext context) => GuardedAsync(context, services =>
            StreamAsync(context, services.GetRequiredService<SnapshotHistory>(), services.GetRequiredService<ServerReadiness>())));
    }

    /// <summary>Refuses a call the management rules refuse (and everything while the dashboard is off), else runs it.</summary>
    private static Task GuardedAsync(HttpContext context, Func<IServiceProvider, Task> serve)
    {
        if (Off(context) is { } off)
        {
            return off;
        }

        var services = context.RequestServices;
        return services.GetRequiredService<ManagementAccess>().Check(context) is { } denied ? HttpResults.WriteErrorAsync(context, denied) : serve(services);
    }

    private static Task? Off(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<TurbineServerOptions>>().Value;
        return options.Management.Enabled && options.Dashboard.Enabled
            ? null
            : HttpResults.WriteErrorAsync(context, StatusCodes.Status404NotFound, "the dashboard is off: it is served with the management API (Turbine:Management:Enabled) unless Turbine:Dashboard:Enabled is false");
    }

    private static async Task WriteAsync<T>(HttpContext context, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, type, context.RequestAborted);
    }

    /// <summary>
    /// Sends the latest snapshot, then each new one as it is taken (<c>event: snapshot</c>), until the client leaves or
    /// the server begins to stop (a stream never ends by itself, and must not hold the shutdown).
    /// </summary>
    private static async Task StreamAsync(HttpContext context, SnapshotHistory history, ServerReadiness readiness)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["X-Accel-Buffering"] = "no"; // proxies that buffer would hold every event back
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, readiness.Stopping);
        try
        {
            await context.Response.WriteAsync("retry: 2000\n\n", ending.Token);
            if (history.Latest is { } latest)
            {
                await WriteEventAsync(context, latest, ending.Token);
            }

            while (true)
            {
                await WriteEventAsync(context, await history.NextAsync(ending.Token), ending.Token);
            }
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
            // the client left, or the server is stopping: the browser reconnects (to another replica)
        }
    }

    private static async Task WriteEventAsync(HttpContext context, DashboardSnapshot snapshot, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(snapshot, DashboardJson.Default.DashboardSnapshot);
        await context.Response.Body.WriteAsync("event: snapshot\ndata: "u8.ToArray(), cancellationToken);
        await context.Response.Body.WriteAsync(json, cancellationToken);
        await context.Response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>A file of the dashboard, from the server's own resources, with headers that keep the page to itself.</summary>
    private static async Task ServeAssetAsync(HttpContext context, string? path)
    {
        if (Off(context) is { } off)
        {
            await off;
            return;
        }

        if (context.RequestServices.GetRequiredService<ManagementAccess>().CheckPage(context) is { } denied)
        {
            await HttpResults.WriteErrorAsync(context, denied);
            return;
        }

        if (string.IsNullOrEmpty(path) && !context.Request.Path.Value!.EndsWith('/'))
        {
            context.Response.Redirect("/dashboard/"); // the page's modules and calls are relative to the folder
            return;
        }

        var name = string.IsNullOrEmpty(path) ? "index.html" : path;
        using var stream = DashboardAssets.Open(ResourcePrefix + name);
        if (stream is null)
        {
            await HttpResults.WriteErrorAsync(context, StatusCodes.Status404NotFound, $"the dashboard has no file '{ClientText.Quote(name)}'");
            return;
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        context.Response.ContentType = DashboardAssets.ContentType(name);
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
