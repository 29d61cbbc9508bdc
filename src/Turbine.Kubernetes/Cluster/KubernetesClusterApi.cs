using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;

namespace Turbine.Kubernetes.Cluster;

/// <summary>
/// The API subset over a real API server, through KubernetesClient's custom-object operations: they build
/// <c>/apis/GROUP/VERSION/...</c> paths for any kind, and a handler moves the core group's to <c>/api/VERSION/...</c>.
/// </summary>
public sealed class KubernetesClusterApi : IClusterApi, IDisposable
{
    private const string FieldManager = "turbine-operator";
    private readonly k8s.Kubernetes _client;

    public KubernetesClusterApi(KubernetesClientConfiguration configuration)
    {
        _client = new k8s.Kubernetes(configuration, new CoreGroupPaths());
    }

    /// <summary>The configuration of a kubeconfig file, or of the pod's service account when in a cluster.</summary>
    public static KubernetesClientConfiguration Configuration(string? kubeconfig) =>
        kubeconfig is null && KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);

    public Task<JsonObject?> GetAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken) =>
        Call<JsonObject?>(async () => await _client.CustomObjects.GetNamespacedCustomObjectAsync<JsonObject>(kind.Group, kind.Version, ns, kind.Plural, name, cancellationToken).ConfigureAwait(false), notFound: null);

    public Task<IReadOnlyList<JsonObject>> ListAsync(ResourceKind kind, string? ns, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<JsonObject>>(async () =>
        {
            var list = ns is null
                ? await _client.CustomObjects.ListClusterCustomObjectAsync<JsonObject>(kind.Group, kind.Version, kind.Plural, labelSelector: Selector(labels), cancellationToken: cancellationToken).ConfigureAwait(false)
                : await _client.CustomObjects.ListNamespacedCustomObjectAsync<JsonObject>(kind.Group, kind.Version, ns, kind.Plural, labelSelector: Selector(labels), cancellationToken: cancellationToken).ConfigureAwait(false);
            // A list's items come without their kind: it is put back, as the rest of the operator reads it.
            return [.. (list["items"] as JsonArray ?? []).OfType<JsonObject>().Select(item => WithKind(kind, item))];
        }, notFound: []);

    public Task<JsonObject> CreateAsync(ResourceKind kind, JsonObject item, CancellationToken cancellationToken) =>
        Call(() => _client.CustomObjects.CreateNamespacedCustomObjectAsync<JsonObject>(item, kind.Group, kind.Version, KubeObject.Namespace(item), kind.Plural, fieldManager: FieldManager, cancellationToken: cancellationToken));

    public Task<JsonObject> ReplaceAsync(ResourceKind kind, JsonObject item, CancellationToken cancellationToken) =>
        Call(() => _client.CustomObjects.ReplaceNamespacedCustomObjectAsync<JsonObject>(item, kind.Group, kind.Version, KubeObject.Namespace(item), kind.Plural, KubeObject.Name(item), fieldManager: FieldManager, cancellationToken: cancellationToken));

    public Task<JsonObject> ReplaceStatusAsync(ResourceKind kind, JsonObject item, CancellationToken cancellationToken) =>
        Call(() => _client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync<JsonObject>(item, kind.Group, kind.Version, KubeObject.Namespace(item), kind.Plural, KubeObject.Name(item), fieldManager: FieldManager, cancellationToken: cancellationToken));

    public Task DeleteAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken) =>
        Call<object?>(async () => await _client.CustomObjects.DeleteNamespacedCustomObjectAsync(kind.Group, kind.Version, ns, kind.Plural, name, propagationPolicy: "Background", cancellationToken: cancellationToken).ConfigureAwait(false), notFound: null);

    public async IAsyncEnumerable<ClusterEvent> WatchAsync(ResourceKind kind, string? ns, IReadOnlyDictionary<string, string>? labels, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var events = ns is null
            ? _client.CustomObjects.WatchListClusterCustomObjectAsync(kind.Group, kind.Version, kind.Plural, labelSelector: Selector(labels), cancellationToken: cancellationToken)
            : _client.CustomObjects.WatchListNamespacedCustomObjectAsync(kind.Group, kind.Version, ns, kind.Plural, labelSelector: Selector(labels), cancellationToken: cancellationToken);
        await foreach (var (type, body) in events.ConfigureAwait(false))
        {
            if (JsonSerializer.SerializeToNode(body) is not JsonObject item)
            {
                continue;
            }

            var change = type switch
            {
                WatchEventType.Added => ClusterEventType.Added,
                WatchEventType.Modified => ClusterEventType.Modified,
                WatchEventType.Deleted => ClusterEventType.Deleted,
                _ => (ClusterEventType?)null, // bookmarks and errors: the caller's resync covers what they would say
            };
            if (change is { } known)
            {
                yield return new ClusterEvent(known, WithKind(kind, item));
            }
        }
    }

    public void Dispose() => _client.Dispose();

    private static string? Selector(IReadOnlyDictionary<string, string>? labels) =>
        labels is null ? null : string.Join(',', labels.Select(l => $"{l.Key}={l.Value}"));

    private static JsonObject WithKind(ResourceKind kind, JsonObject item)
    {
        item["apiVersion"] = kind.ApiVersion;
        item["kind"] = kind.Kind;
        return item;
    }

    private static Task<T> Call<T>(Func<Task<T>> call) => Call(call, default!, notFoundIsValue: false);

    private static Task<T> Call<T>(Func<Task<T>> call, T notFound) => Call(call, notFound, notFoundIsValue: true);

    private static async Task<T> Call<T>(Func<Task<T>> call, T notFound, bool notFoundIsValue)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (notFoundIsValue && e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return notFound;
        }
        catch (HttpOperationException e)
        {
            throw new ClusterApiException((int)e.Response.StatusCode, $"{e.Response.StatusCode}: {e.Response.Content}");
        }
    }

    /// <summary>Moves requests for the core group (built as <c>/apis//v1/...</c>) to its real place, <c>/api/v1/...</c>.</summary>
    private sealed class CoreGroupPaths : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { } uri && uri.AbsolutePath.Contains("/apis//", StringComparison.Ordinal))
            {
                request.RequestUri = new UriBuilder(uri) { Path = uri.AbsolutePath.Replace("/apis//", "/api/", StringComparison.Ordinal) }.Uri;
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
