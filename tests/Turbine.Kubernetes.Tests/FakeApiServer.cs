using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Turbine.Kubernetes.Cluster;

namespace Turbine.Kubernetes.Tests;

/// <summary>
/// <see cref="FakeCluster"/> behind the Kubernetes REST paths on real Kestrel (127.0.0.1, port 0): <c>/api/v1/...</c>
/// for the core group, <c>/apis/GROUP/VERSION/...</c> for the others, <c>/status</c>, label selectors and
/// <c>?watch=true</c> as lines of watch events. Enough of the API to run <see cref="KubernetesClusterApi"/> for real.
/// </summary>
internal sealed class FakeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeApiServer(WebApplication app) => _app = app;

    public Uri Address => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public static async Task<FakeApiServer> StartAsync(FakeCluster cluster)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Map("/api/{version}/namespaces/{ns}/{plural}/{name?}/{sub?}", (HttpContext context, string version, string ns, string plural, string? name, string? sub) =>
            HandleAsync(context, cluster, Kind(string.Empty, version, plural), ns, name, sub));
        app.Map("/apis/{group}/{version}/namespaces/{ns}/{plural}/{name?}/{sub?}", (HttpContext context, string group, string version, string ns, string plural, string? name, string? sub) =>
            HandleAsync(context, cluster, Kind(group, version, plural), ns, name, sub));
        app.Map("/apis/{group}/{version}/{plural}", (HttpContext context, string group, string version, string plural) =>
            HandleAsync(context, cluster, Kind(group, version, plural), null, null, null));
        await app.StartAsync();
        return new FakeApiServer(app);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static ResourceKind? Kind(string group, string version, string plural) =>
        ResourceKind.Owned.Append(ResourceKind.TurbineModel).FirstOrDefault(k => k.Group == group && k.Version == version && k.Plural == plural);

    private static async Task HandleAsync(HttpContext context, FakeCluster cluster, ResourceKind? kind, string? ns, string? name, string? sub)
    {
        if (kind is null)
        {
            context.Response.StatusCode = 404;
            return;
        }

        var request = context.Request;
        var cancel = context.RequestAborted;
        try
        {
            switch (request.Method, name)
            {
                case ("GET", null) when request.Query["watch"] == "true":
                    await WatchAsync(context, cluster, kind, ns);
                    return;
                case ("GET", null):
                    var items = await cluster.ListAsync(kind, ns, Selector(request.Query["labelSelector"]), cancel);
                    await WriteAsync(context, 200, new JsonObject { ["apiVersion"] = kind.ApiVersion, ["kind"] = $"{kind.Kind}List", ["items"] = new JsonArray([.. items.Select(i => (JsonNode)Strip(i))]) });
                    return;
                case ("GET", _):
                    var item = await cluster.GetAsync(kind, ns!, name, cancel);
                    await WriteAsync(context, item is null ? 404 : 200, item ?? Status(404, "not found"));
                    return;
                case ("POST", null):
                    await WriteAsync(context, 201, await cluster.CreateAsync(kind, await BodyAsync(context), cancel));
                    return;
                case ("PUT", _):
                    var body = await BodyAsync(context);
                    await WriteAsync(context, 200, sub == "status" ? await cluster.ReplaceStatusAsync(kind, body, cancel) : await cluster.ReplaceAsync(kind, body, cancel));
                    return;
                case ("DELETE", _):
                    var existed = cluster.Exists(kind, ns!, name!);
                    await cluster.DeleteAsync(kind, ns!, name!, cancel);
                    await WriteAsync(context, existed ? 200 : 404, Status(existed ? 200 : 404, existed ? "deleted" : "not found"));
                    return;
                default:
                    context.Response.StatusCode = 405;
                    return;
            }
        }
        catch (ClusterApiException e)
        {
            await WriteAsync(context, e.Status, Status(e.Status, e.Message));
        }
    }

    private static async Task WatchAsync(HttpContext context, FakeCluster cluster, ResourceKind kind, string? ns)
    {
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        await foreach (var change in cluster.WatchAsync(kind, ns, Selector(context.Request.Query["labelSelector"]), context.RequestAborted))
        {
            var line = new JsonObject { ["type"] = change.Type.ToString().ToUpperInvariant(), ["object"] = change.Item };
            await context.Response.WriteAsync(line.ToJsonString() + "\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }

    // A real list's items carry no kind; the client must put it back.
    private static JsonObject Strip(JsonObject item)
    {
        item.Remove("apiVersion");
        item.Remove("kind");
        return item;
    }

    private static Dictionary<string, string>? Selector(string? text) =>
        string.IsNullOrEmpty(text) ? null : text.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

    private static async Task<JsonObject> BodyAsync(HttpContext context) =>
        (await JsonSerializer.DeserializeAsync<JsonObject>(context.Request.Body, cancellationToken: context.RequestAborted))!;

    private static JsonObject Status(int code, string message) =>
        new() { ["apiVersion"] = "v1", ["kind"] = "Status", ["code"] = code, ["message"] = message };

    private static Task WriteAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
