using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Turbine.Server.Hosting;

/// <summary>Which of Turbine's ports a connection arrived on, tagged by connection middleware at accept time.</summary>
internal enum ListenerKind
{
    Http,
    Grpc,
    Metrics,
}

internal static class ListenerKinds
{
    private const string Key = "turbine.listener";

    public static void Tag(IDictionary<object, object?> connectionItems, ListenerKind kind) => connectionItems[Key] = kind;

    public static ListenerKind Of(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(Key, out var kind) == true && kind is ListenerKind value
            ? value
            : ListenerKind.Http;
}
