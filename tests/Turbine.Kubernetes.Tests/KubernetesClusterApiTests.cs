using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Turbine.Kubernetes.Cluster;
using Turbine.Kubernetes.Reconciliation;

namespace Turbine.Kubernetes.Tests;

/// <summary>
/// The real client (KubernetesClient over HTTP) against the API subset on Kestrel: its paths, the core group's
/// <c>/api/v1</c>, lists without kinds, 404s as absence, the status subresource and conflicts.
/// </summary>
public sealed class KubernetesClusterApiTests : IAsyncLifetime
{
    private readonly FakeCluster _cluster = new();
    private FakeApiServer? _server;
    private KubernetesClusterApi? _api;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync(_cluster);
        _api = new KubernetesClusterApi(new KubernetesClientConfiguration { Host = _server.Address.ToString().TrimEnd('/') });
    }

    public async Task DisposeAsync()
    {
        _api?.Dispose();
        await _server!.DisposeAsync();
    }

    [Fact]
    public async Task The_reconciler_runs_over_http_and_every_kind_lands_where_the_api_serves_it()
    {
        await _api!.CreateAsync(ResourceKind.TurbineModel, ModelReconcilerTests.Model("fraud", ModelReconcilerTests.AutoscaledWithRoute()), CancellationToken.None);
        var reconciler = new ModelReconciler(_api, TimeProvider.System, NullLogger<ModelReconciler>.Instance);

        await reconciler.ReconcileAsync("models", "fraud", CancellationToken.None);
        var writes = _cluster.Writes.Count;
        await reconciler.ReconcileAsync("models", "fraud", CancellationToken.None);

        Assert.True(_cluster.Exists(ResourceKind.Service, "models", "turbine-fraud")); // through /api/v1, not /apis//v1
        Assert.True(_cluster.Exists(ResourceKind.HttpRoute, "models", "turbine-fraud-public"));
        Assert.Equal(writes, _cluster.Writes.Count); // in step after one pass, as over the in-memory API
        var model = await _api.GetAsync(ResourceKind.TurbineModel, "models", "fraud", CancellationToken.None);
        Assert.Equal("True", (string?)model!["status"]!["conditions"]!.AsArray().Single(c => (string?)c!["type"] == "Reconciled")!["status"]);
        var listed = await _api.ListAsync(ResourceKind.Deployment, "models", new Dictionary<string, string> { ["app.kubernetes.io/instance"] = "fraud" }, CancellationToken.None);
        Assert.Equal("Deployment", (string?)Assert.Single(listed)["kind"]);
    }

    [Fact]
    public async Task Absence_is_null_a_stale_write_is_a_conflict_and_a_watch_sees_changes()
    {
        Assert.Null(await _api!.GetAsync(ResourceKind.Service, "models", "none", CancellationToken.None));
        await _api.DeleteAsync(ResourceKind.Service, "models", "none", CancellationToken.None);

        var created = await _api.CreateAsync(ResourceKind.TurbineModel, ModelReconcilerTests.Model("fraud", new() { ["model"] = "fraud@champion" }), CancellationToken.None);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watch = _api.WatchAsync(ResourceKind.TurbineModel, "models", null, stop.Token).GetAsyncEnumerator(stop.Token);
        var first = watch.MoveNextAsync().AsTask();
        var attaching = System.Diagnostics.Stopwatch.StartNew();
        while (_cluster.Watchers == 0)
        {
            Assert.True(attaching.Elapsed < TimeSpan.FromSeconds(30), "the watch never attached");
            await Task.Delay(10);
        }

        await _api.ReplaceAsync(ResourceKind.TurbineModel, created, CancellationToken.None);
        var stale = await Assert.ThrowsAsync<ClusterApiException>(() => _api.ReplaceAsync(ResourceKind.TurbineModel, created, CancellationToken.None));
        Assert.Equal(409, stale.Status);
        await _api.DeleteAsync(ResourceKind.TurbineModel, "models", "fraud", CancellationToken.None);
        while (await (first ?? watch.MoveNextAsync().AsTask()))
        {
            first = null;
            if (watch.Current.Type == ClusterEventType.Deleted)
            {
                break;
            }
        }

        Assert.Equal(ClusterEventType.Deleted, watch.Current.Type);
        Assert.Equal("TurbineModel", (string?)watch.Current.Item["kind"]);
        await stop.CancelAsync();
        await watch.DisposeAsync();
    }
}
