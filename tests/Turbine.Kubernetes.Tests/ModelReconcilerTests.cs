using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Kubernetes.Cluster;
using Turbine.Kubernetes.Reconciliation;
using Turbine.Kubernetes.Resources;

namespace Turbine.Kubernetes.Tests;

/// <summary>The reconcile cases, against the in-memory API (<see cref="FakeCluster"/>: no API server runs here).</summary>
public sealed class ModelReconcilerTests
{
    private const string Ns = "models";
    private readonly FakeCluster _cluster = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly ModelReconciler _reconciler;

    public ModelReconcilerTests() => _reconciler = new ModelReconciler(_cluster, _time, NullLogger<ModelReconciler>.Instance);

    internal static JsonObject Model(string name, JsonObject spec) => new()
    {
        ["apiVersion"] = ResourceKind.TurbineModel.ApiVersion,
        ["kind"] = ResourceKind.TurbineModel.Kind,
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = Ns },
        ["spec"] = spec,
    };

    internal static JsonObject AutoscaledWithRoute() => new()
    {
        ["model"] = "fraud@champion",
        ["autoscaling"] = new JsonObject { ["engine"] = "HPA", ["minReplicas"] = 2, ["maxReplicas"] = 6, ["metric"] = "pending", ["target"] = 4 },
        ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["cpu"] = "500m", ["memory"] = "1Gi" } },
        ["routes"] = new JsonArray(new JsonObject { ["name"] = "public", ["gateway"] = new JsonObject { ["name"] = "public", ["namespace"] = "gateway" }, ["hostnames"] = new JsonArray("fraud.example.com") }),
        ["serviceMonitor"] = true,
    };

    private Task ReconcileAsync(string name = "fraud") => _reconciler.ReconcileAsync(Ns, name, CancellationToken.None);

    private async Task<JsonObject> GetAsync(ResourceKind kind, string name) =>
        await _cluster.GetAsync(kind, Ns, name, CancellationToken.None) ?? throw new InvalidOperationException($"no {kind.Kind} {name}");

    private async Task<TurbineModel> ModelAsync(string name = "fraud") => TurbineModel.From(await GetAsync(ResourceKind.TurbineModel, name));

    private static ModelCondition Condition(TurbineModel model, string type) => model.Status.Conditions.Single(c => c.Type == type);

    [Fact]
    public async Task Create_makes_every_object_owned_by_the_model_with_its_finalizer_and_a_status()
    {
        await _cluster.CreateAsync(ResourceKind.TurbineModel, Model("fraud", AutoscaledWithRoute()), CancellationToken.None);
        await ReconcileAsync();

        var model = await ModelAsync();
        Assert.Contains(TurbineModel.Finalizer, KubeObject.Finalizers(await GetAsync(ResourceKind.TurbineModel, "fraud")));
        foreach (var (kind, name) in new[]
                 {
                     (ResourceKind.Deployment, "turbine-fraud"), (ResourceKind.Service, "turbine-fraud"), (ResourceKind.PodDisruptionBudget, "turbine-fraud"),
                     (ResourceKind.HorizontalPodAutoscaler, "turbine-fraud"), (ResourceKind.ServiceMonitor, "turbine-fraud"), (ResourceKind.HttpRoute, "turbine-fraud-public"),
                 })
        {
            var item = await GetAsync(kind, name);
            Assert.True(KubeObject.IsControlledBy(item, model.Uid), $"{kind.Kind} {name} is controlled by the model");
            Assert.Equal("fraud", KubeObject.Labels(item)["app.kubernetes.io/instance"]);
        }

        var deployment = await GetAsync(ResourceKind.Deployment, "turbine-fraud");
        var container = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Contains(container["env"]!.AsArray(), e => (string?)e!["name"] == "TURBINE__REGISTRY__FOLLOW__0" && (string?)e["value"] == "fraud@champion");
        Assert.Equal("500m", (string?)container["resources"]!["requests"]!["cpu"]);
        Assert.Equal("4", (string?)container["resources"]!["limits"]!["cpu"]); // the base's limit, kept where the spec says nothing
        Assert.Equal(1, (int)deployment["spec"]!["replicas"]!); // left to the API server's default, then to the HPA
        var hpa = await GetAsync(ResourceKind.HorizontalPodAutoscaler, "turbine-fraud");
        Assert.Equal("turbine_inference_pending_requests", (string?)hpa["spec"]!["metrics"]![0]!["pods"]!["metric"]!["name"]);
        Assert.Equal(6, (int)hpa["spec"]!["maxReplicas"]!);
        var budget = await GetAsync(ResourceKind.PodDisruptionBudget, "turbine-fraud");
        Assert.Equal(System.Text.Json.JsonValueKind.Number, budget["spec"]!["minAvailable"]!.GetValueKind()); // a count, not the string "1" (which only a percentage may be)

        Assert.Equal(1, model.Status.ObservedGeneration);
        Assert.Equal("True", Condition(model, ModelStatus.Reconciled).Status);
        Assert.Equal(("False", "RolloutInProgress"), (Condition(model, ModelStatus.Ready).Status, Condition(model, ModelStatus.Ready).Reason));
        Assert.Equal("http://turbine-fraud.models.svc:8000", model.Status.Url);
    }

    [Fact]
    public async Task A_second_reconcile_of_an_unchanged_model_writes_nothing()
    {
        await _cluster.CreateAsync(ResourceKind.TurbineModel, Model("fraud", AutoscaledWithRoute()), CancellationToken.None);
        await ReconcileAsync();
        var writes = _cluster.Writes.Count;

        await ReconcileAsync();

        Assert.Equal(writes, _cluster.Writes.Count);
    }

    [Fact]
    public async Task Status_turns_ready_when_pods_are_and_keeps_a_condition_transition_time_while_it_holds()
    {
        await _cluster.CreateAsync(ResourceKind.TurbineModel, Model("fraud", AutoscaledWithRoute()), CancellationToken.None);
        await ReconcileAsync();
        var created = Condition(await ModelAsync(), ModelStatus.Reconciled).LastTransitionTime;
        _cluster.ReportPods(Ns, "turbine-fraud", ready: 0);
        await ReconcileAsync();
        Assert.Equal("Unavailable", Condition(await ModelAsync(), ModelStatus.Ready).Reason);

        _time.Advance(TimeSpan.FromMinutes(3));
        _cluster.ReportPods(Ns, "turbine-fraud", ready: 1);
        await ReconcileAsync();

        var model = await ModelAsync();
        var ready = Condition(model, ModelStatus.Ready);
        Assert.Equal(("True", "Available"), (ready.Status, ready.Reason));
        Assert.Equal("2026-12-07T12:03:00Z", ready.LastTransitionTime);
        Assert.Equal(created, Condition(model, ModelStatus.Reconciled).LastTransitionTime);
        Assert.Equal(1, model.Status.ReadyReplicas);

        // A rollout of a new spec: not ready until the pods of the new generation are.
        var edited = await GetAsync(ResourceKind.TurbineModel, "fraud");
        edited["spec"]!["model"] = "fraud@challenger";
        await _cluster.ReplaceAsync(ResourceKind.TurbineModel, edited, CancellationToken.None);
        await ReconcileAsync();
        model = await ModelAsync();
        Assert.Equal(("False", "RolloutInProgress"), (Condition(model, ModelStatus.Ready).Status, Condition(model, ModelStatus.Ready).Reason));
        Assert.Equal(2, model.Status.ObservedGeneration);
    }

    [Fact]
    public async Task Update_follows_the_spec_and_deletes_what_it_no_longer_asks_for()
    {
        await _cluster.CreateAsync(ResourceKind.TurbineModel, Model("fraud", AutoscaledWithRoute()), CancellationToken.None);
        await ReconcileAsync();

        var item = await GetAsync(ResourceKind.TurbineModel, "fraud");
        item["spec"] = new JsonObject { ["model"] = "fraud@challenger", ["image"] = "registry.local/turbine:1.2", ["replicas"] = 1 };
        await _cluster.ReplaceAsync(ResourceKind.TurbineModel, item, CancellationToken.None);
        await ReconcileAsync();

        var deployment = await GetAsync(ResourceKind.Deployment, "turbine-fraud");
        Assert.Equal(1, (int)deployment["spec"]!["replicas"]!);
        var container = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal("registry.local/turbine:1.2", (string?)container["image"]);
        Assert.Contains(container["env"]!.AsArray(), e => (string?)e!["value"] == "fraud@challenger");
        Assert.Equal("2", (string?)container["resources"]!["requests"]!["cpu"]); // back to the base's request
        Assert.False(_cluster.Exists(ResourceKind.HorizontalPodAutoscaler, Ns, "turbine-fraud"));
        Assert.False(_cluster.Exists(ResourceKind.HttpRoute, Ns, "turbine-fraud-public"));
        Assert.False(_cluster.Exists(ResourceKind.ServiceMonitor, Ns, "turbine-fraud"));
        Assert.False(_cluster.Exists(ResourceKind.PodDisruptionBudget, Ns, "turbine-fraud")); // one replica: a budget would block drains
        Assert.True(_cluster.Exists(ResourceKind.Service, Ns, "turbine-fraud"));
    }

    [Fact]
    public async Task Switching_to_keda_replaces_the_hpa_with_a_scaled_object_that_may_scale_to_zero()
    {
        await _cluster.CreateAsync(ResourceKind.TurbineModel, Model("fraud", AutoscaledWithRoute()), CancellationToken.None);
        await ReconcileAsync();

        var item = await GetAsync(ResourceKind.TurbineModel, "fraud");
        item["spec"]!["autoscaling"] = new JsonObject { ["engine"] = "KEDA", ["minReplicas"] = 0, ["maxReplicas"] = 4, ["metric"] = "llm-waiting", ["target"] = 2.5 };
        await _cluster.ReplaceAsync(ResourceKind.TurbineModel, item, CancellationToken.None);
        await ReconcileAsync();

        Assert.False(_cluster.Exists(ResourceKind.HorizontalPodAutoscaler, Ns, "turbine-fraud"));
        var scaled = await GetAsync(ResourceKind.ScaledObject, "turbine-fraud");
        Assert.Equal(0, (int)scaled["spec"]!["minReplicaCount"]!);
        var trigger = scaled["spec"]!["triggers"]![0]!["metadata"]!;
        Assert.Equal("sum(turbine_llm_num_requests_waiting{namespace=\"models\",service=\"turbine-fraud\"})", (string?)trigger["query"]);
        Assert.Equal("2500m", (string?)trigger["threshold"]);
        Assert.False(_cluster.Exists(ResourceKind.PodDisruptionBudget, Ns, "turbine-fraud"));
    }

    [Fact]
    public async Task Drift_is_repaired_while_what_others_own_is_left_alone()
    {
        await _cluster.CreateAsync(ResourceKind.TurbineModel, Model("fraud", AutoscaledWithRoute()), CancellationToken.None);
        await ReconcileAsync();

        _cluster.Edit(ResourceKind.Deployment, Ns, "turbine-fraud", d =>
        {
            d["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "attacker/turbine:evil";
            d["spec"]!["replicas"] = 5; // the HPA's doing: its to keep
            d["metadata"]!["labels"]!["team"] = "risk"; // someone's label: kept
        });
        _cluster.Edit(ResourceKind.HttpRoute, Ns, "turbine-fraud-public", r => r["spec"]!["hostnames"] = new JsonArray("evil.example.com"));
        await _cluster.DeleteAsync(ResourceKind.Service, Ns, "turbine-fraud", CancellationToken.None);
        await ReconcileAsync();

        var deployment = await GetAsync(ResourceKind.Deployment, "turbine-fraud");
        Assert.Equal("ghcr.io/turbine/turbine:latest", (string?)deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
        Assert.Equal(5, (int)deployment["spec"]!["replicas"]!);
        Assert.Equal("risk", KubeObject.Labels(deployment)["team"]);
        Assert.Equal("fraud.example.com", (string?)(await GetAsync(ResourceKind.HttpRoute, "turbine-fraud-public"))["spec"]!["hostnames"]![0]);
        Assert.True(_cluster.Exists(ResourceKind.Service, Ns, "turbine-fraud"));
    }

    [Fact]
    public async Task Gpus_come_with_their_runtime_and_placement_and_leave_none_behind()
    {
        var spec = new JsonObject { ["model"] = "llm@prod", ["replicas"] = 2, ["gpus"] = 1 };
        await _cluster.CreateAsync(ResourceKind.TurbineModel, Model("llm", spec), CancellationToken.None);
        await ReconcileAsync("llm");
        var pod = (await GetAsync(ResourceKind.Deployment, "turbine-llm"))["spec"]!["template"]!["spec"]!;
        Assert.Equal("nvidia", (string?)pod["runtimeClassName"]);
        Assert.Equal("1", (string?)pod["containers"]![0]!["resources"]!["limits"]!["nvidia.com/gpu"]);
        Assert.Equal("ghcr.io/turbine/turbine:latest-gpu", (string?)pod["containers"]![0]!["image"]);

        var item = await GetAsync(ResourceKind.TurbineModel, "llm");
        item["spec"]!["gpus"] = 0;
        await _cluster.ReplaceAsync(ResourceKind.TurbineModel, item, CancellationToken.None);
        await ReconcileAsync("llm");

        pod = (await GetAsync(ResourceKind.Deployment, "turbine-llm"))["spec"]!["template"]!["spec"]!;
        Assert.Null(pod["runtimeClassName"]);
        Assert.Null(pod["nodeSelector"]);
        Assert.Null(pod["tolerations"]);
        Assert.Null(pod["containers"]![0]!["resources"]!["limits"]!["nvidia.com/gpu"]);
    }

    [Fact]
    public async Task Delete_tears_down_routes_first_and_releases_the_model()
    {
        await _cluster.CreateAsync(ResourceKind.TurbineModel, Model("fraud", AutoscaledWithRoute()), CancellationToken.None);
        await ReconcileAsync();

        await _cluster.DeleteAsync(ResourceKind.TurbineModel, Ns, "fraud", CancellationToken.None);
        Assert.True(_cluster.Exists(ResourceKind.TurbineModel, Ns, "fraud")); // held by the finalizer
        _cluster.Writes.Clear();
        await ReconcileAsync();

        Assert.False(_cluster.Exists(ResourceKind.TurbineModel, Ns, "fraud"));
        foreach (var kind in ResourceKind.Owned)
        {
            Assert.Equal(0, _cluster.Count(kind));
        }

        var deletes = _cluster.Writes.Where(w => w.StartsWith("delete ", StringComparison.Ordinal)).ToList();
        Assert.Equal("delete HTTPRoute turbine-fraud-public", deletes[0]);
        Assert.Equal("delete Deployment turbine-fraud", deletes[^1]);
    }

    [Fact]
    public async Task An_invalid_spec_is_reported_in_the_status_and_touches_nothing()
    {
        var spec = new JsonObject { ["model"] = "no-alias", ["replicas"] = 2, ["autoscaling"] = new JsonObject { ["maxReplicas"] = 3 } };
        await _cluster.CreateAsync(ResourceKind.TurbineModel, Model("broken", spec), CancellationToken.None);
        await ReconcileAsync("broken");

        var reconciled = Condition(await ModelAsync("broken"), ModelStatus.Reconciled);
        Assert.Equal(("False", "InvalidSpec"), (reconciled.Status, reconciled.Reason));
        Assert.Contains("spec.model: 'no-alias'", reconciled.Message, StringComparison.Ordinal);
        Assert.Contains("exclude each other", reconciled.Message, StringComparison.Ordinal);
        Assert.Equal(0, _cluster.Count(ResourceKind.Deployment));
    }

    [Fact]
    public async Task A_refused_write_is_reported_and_thrown_for_a_retry_and_the_next_reconcile_recovers()
    {
        _cluster.Refusing.Add(ResourceKind.HorizontalPodAutoscaler);
        await _cluster.CreateAsync(ResourceKind.TurbineModel, Model("fraud", AutoscaledWithRoute()), CancellationToken.None);

        var failure = await Assert.ThrowsAsync<ClusterApiException>(() => ReconcileAsync());
        Assert.Equal(422, failure.Status);
        var reconciled = Condition(await ModelAsync(), ModelStatus.Reconciled);
        Assert.Equal(("False", "ApplyFailed"), (reconciled.Status, reconciled.Reason));
        Assert.Contains("HorizontalPodAutoscaler turbine-fraud is invalid", reconciled.Message, StringComparison.Ordinal);

        _cluster.Refusing.Clear();
        await ReconcileAsync();
        Assert.Equal("True", Condition(await ModelAsync(), ModelStatus.Reconciled).Status);
        Assert.True(_cluster.Exists(ResourceKind.HorizontalPodAutoscaler, Ns, "turbine-fraud"));
    }

    [Fact]
    public async Task A_model_that_is_gone_is_nothing_to_do()
    {
        await ReconcileAsync("never-was");
        Assert.Empty(_cluster.Writes);
    }
}
