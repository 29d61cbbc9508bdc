using System.Text.Json;

namespace Turbine.IntegrationTests;

/// <summary>
/// deploy/kubernetes checked offline (no API server runs here): every overlay rendered by <c>kubectl kustomize</c> and
/// every object validated against the Kubernetes, KEDA, Prometheus-operator and Gateway API schemas (npm
/// kubernetes-models and its siblings, tests/tools/k8s-validate.mjs), then the properties the deployment depends on.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Kubernetes = Path.Combine(CliProcess.RepositoryRoot(), "deploy", "kubernetes");

    public static TheoryData<string> Kustomizations() =>
        ["base", "overlays/cpu", "overlays/gpu", "overlays/llm", "overlays/keda", "overlays/shared", "overlays/ingress", "overlays/mesh", "overlays/region-eu", "overlays/region-us", "batch"];

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Every_overlay_renders_and_every_object_passes_its_schema(string folder)
    {
        var objects = await RenderAsync(folder);

        Assert.NotEmpty(objects);
        Assert.All(objects, o => Assert.Equal("turbine", o.GetProperty("metadata").GetProperty("labels").GetProperty("app.kubernetes.io/name").GetString()));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task The_server_drains_before_it_is_killed_runs_unprivileged_and_reads_secrets_from_files(string folder)
    {
        var objects = await RenderAsync(folder);
        if (Find(objects, "Deployment") is not { } deployment)
        {
            Assert.Equal("batch", folder); // the batch job has no server
            return;
        }

        var pod = deployment.GetProperty("spec").GetProperty("template").GetProperty("spec");
        var container = pod.GetProperty("containers")[0];
        var env = container.GetProperty("env").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e);
        var preStop = int.Parse(container.GetProperty("lifecycle").GetProperty("preStop").GetProperty("exec").GetProperty("command")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var drain = preStop + TimeSpan.Parse(Value(env, "TURBINE__SHUTDOWNDELAY"), System.Globalization.CultureInfo.InvariantCulture).TotalSeconds
            + TimeSpan.Parse(Value(env, "TURBINE__EXITTIMEOUT"), System.Globalization.CultureInfo.InvariantCulture).TotalSeconds;
        Assert.True(pod.GetProperty("terminationGracePeriodSeconds").GetInt32() > drain, $"grace period below {drain} s of preStop, shutdown delay and exit timeout");
        Assert.Equal(10, preStop);
        Assert.Equal(TimeSpan.FromSeconds(10), TimeSpan.Parse(Value(env, "TURBINE__SHUTDOWNDELAY"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("/v2/health/live", container.GetProperty("livenessProbe").GetProperty("httpGet").GetProperty("path").GetString());
        Assert.Equal("/v2/health/ready", container.GetProperty("readinessProbe").GetProperty("httpGet").GetProperty("path").GetString());
        Assert.Equal("true", Value(env, "TURBINE__STRICTREADINESS")); // new pods take traffic once their models answer
        Assert.True(pod.GetProperty("securityContext").GetProperty("runAsNonRoot").GetBoolean());
        Assert.True(container.GetProperty("securityContext").GetProperty("readOnlyRootFilesystem").GetBoolean());
        Assert.False(container.GetProperty("securityContext").GetProperty("allowPrivilegeEscalation").GetBoolean());
        Assert.True(container.GetProperty("resources").GetProperty("requests").TryGetProperty("memory", out _));
        Assert.True(container.GetProperty("resources").GetProperty("limits").TryGetProperty("memory", out _));
        Assert.Equal(2, pod.GetProperty("topologySpreadConstraints").GetArrayLength());
        var secretMount = container.GetProperty("volumeMounts").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "secrets").GetProperty("mountPath").GetString()!;
        foreach (var file in new[] { "TURBINE__MANAGEMENT__TOKENFILE", "TURBINE__APIKEYS__0__KEYFILE", "TURBINE__REGISTRY__TRUSTEDKEYS__0" })
        {
            Assert.StartsWith(secretMount + "/", Value(env, file), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(env.Values, e => e.GetProperty("name").GetString()!.EndsWith("TOKEN", StringComparison.Ordinal) && e.TryGetProperty("value", out _));
        foreach (var kind in new[] { "Service", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor", "PrometheusRule" })
        {
            Assert.NotNull(Find(objects, kind));
        }
    }

    [Fact]
    public async Task The_cpu_overlay_scales_on_queue_depth_and_in_flight_requests_within_cost_limits()
    {
        var objects = await RenderAsync("overlays/cpu");

        var hpa = Find(objects, "HorizontalPodAutoscaler")!.Value.GetProperty("spec");
        var metrics = hpa.GetProperty("metrics").EnumerateArray().Where(m => m.GetProperty("type").GetString() == "Pods")
            .Select(m => m.GetProperty("pods").GetProperty("metric").GetProperty("name").GetString()).ToList();
        Assert.Equal(["turbine_inference_pending_requests", "turbine_inference_executing_requests"], metrics);
        Assert.Equal(10, hpa.GetProperty("maxReplicas").GetInt32());
        Assert.Equal(300, hpa.GetProperty("behavior").GetProperty("scaleDown").GetProperty("stabilizationWindowSeconds").GetInt32());
        var rules = Find(objects, "ConfigMap")!.Value.GetProperty("data").GetProperty("config.yaml").GetString()!;
        Assert.All(metrics, m => Assert.Contains($"as: \"{m}\"", rules, StringComparison.Ordinal)); // the adapter serves every metric the HPA reads
    }

    [Fact]
    public async Task The_llm_overlay_scales_on_waiting_requests_and_the_kv_cache()
    {
        var objects = await RenderAsync("overlays/llm");

        var names = Find(objects, "HorizontalPodAutoscaler")!.Value.GetProperty("spec").GetProperty("metrics").EnumerateArray()
            .Select(m => m.GetProperty("pods").GetProperty("metric").GetProperty("name").GetString()).ToList();
        Assert.Equal(["turbine_llm_num_requests_waiting", "turbine_llm_kv_cache_usage_perc"], names);
        var adapter = (await RenderAsync("overlays/cpu")).Single(o => o.GetProperty("kind").GetString() == "ConfigMap").GetProperty("data").GetProperty("config.yaml").GetString()!;
        Assert.All(names, m => Assert.Contains($"as: \"{m}\"", adapter, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_keda_overlay_scales_to_zero_and_back_on_activation()
    {
        var scaled = Find(await RenderAsync("overlays/keda"), "ScaledObject")!.Value.GetProperty("spec");

        Assert.Equal(0, scaled.GetProperty("minReplicaCount").GetInt32());
        var trigger = scaled.GetProperty("triggers")[0];
        Assert.Equal("prometheus", trigger.GetProperty("type").GetString());
        Assert.Equal("0", trigger.GetProperty("metadata").GetProperty("activationThreshold").GetString());
        Assert.Contains("turbine_inference_pending_requests", trigger.GetProperty("metadata").GetProperty("query").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_gpu_overlay_asks_for_a_gpu_on_nvidia_runtime_with_the_gpu_image()
    {
        var pod = Find(await RenderAsync("overlays/gpu"), "Deployment")!.Value.GetProperty("spec").GetProperty("template").GetProperty("spec");
        var container = pod.GetProperty("containers")[0];

        Assert.Equal("nvidia", pod.GetProperty("runtimeClassName").GetString());
        Assert.Equal("1", container.GetProperty("resources").GetProperty("limits").GetProperty("nvidia.com/gpu").GetString());
        Assert.EndsWith(":latest-gpu", container.GetProperty("image").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_region_runs_in_its_namespace_on_its_nodes_with_its_own_registry()
    {
        foreach (var (region, aws) in new[] { ("eu", "eu-central-1"), ("us", "us-east-1") })
        {
            var objects = await RenderAsync($"overlays/region-{region}");
            var deployment = Find(objects, "Deployment")!.Value;
            var env = deployment.GetProperty("spec").GetProperty("template").GetProperty("spec").GetProperty("containers")[0].GetProperty("env").EnumerateArray()
                .ToDictionary(e => e.GetProperty("name").GetString()!, e => e);

            Assert.All(objects, o => Assert.Equal($"turbine-{region}", o.GetProperty("metadata").GetProperty("namespace").GetString()));
            Assert.Equal(aws, deployment.GetProperty("spec").GetProperty("template").GetProperty("spec").GetProperty("nodeSelector").GetProperty("topology.kubernetes.io/region").GetString());
            Assert.Equal($"turbine-registry-{aws}", Value(env, "TURBINE__REGISTRY__S3BUCKET"));
            Assert.True(env.ContainsKey("TURBINE__STATEPOSTGRES")); // the shared parts, per region
        }
    }

    [Fact]
    public async Task The_mesh_overlay_delegates_mutual_tls_and_retries_to_the_sidecar()
    {
        var objects = await RenderAsync("overlays/mesh");

        Assert.Equal("STRICT", Find(objects, "PeerAuthentication")!.Value.GetProperty("spec").GetProperty("mtls").GetProperty("mode").GetString());
        Assert.Equal(2, Find(objects, "VirtualService")!.Value.GetProperty("spec").GetProperty("http")[0].GetProperty("retries").GetProperty("attempts").GetInt32());
        var pod = Find(objects, "Deployment")!.Value.GetProperty("spec").GetProperty("template");
        Assert.Equal("true", pod.GetProperty("metadata").GetProperty("annotations").GetProperty("sidecar.istio.io/inject").GetString());
        var env = pod.GetProperty("spec").GetProperty("containers")[0].GetProperty("env").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.DoesNotContain(env, name => name!.StartsWith("TURBINE__TLS__", StringComparison.Ordinal)); // the mesh's mTLS, not Turbine's
    }

    private static JsonElement? Find(List<JsonElement> objects, string kind) =>
        objects.Where(o => o.GetProperty("kind").GetString() == kind).Select(o => (JsonElement?)o).FirstOrDefault();

    private static string Value(Dictionary<string, JsonElement> env, string name) => env[name].GetProperty("value").GetString()!;

    /// <summary>Renders a kustomization with kubectl and validates it; the objects as JSON.</summary>
    private static async Task<List<JsonElement>> RenderAsync(string folder)
    {
        var (kustomizeExit, rendered, kustomizeErrors) = await ChildProcess.RunAsync("kubectl", ["kustomize", Path.Combine(Kubernetes, folder)]);
        Assert.True(kustomizeExit == 0, $"kubectl kustomize {folder}: {kustomizeErrors}");
        var json = Path.GetTempFileName();
        try
        {
            var rules = Path.Combine(CliProcess.RepositoryRoot(), "deploy", "prometheus", "turbine-alerts.yml");
            var (exit, report, errors) = await ChildProcess.ValidateKubernetesAsync(rendered, "--rules", rules, "--json", json);
            Assert.True(exit == 0, $"{folder}: {report} {errors}");
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            return [.. document.RootElement.EnumerateArray().Select(o => o.Clone())];
        }
        finally
        {
            File.Delete(json);
        }
    }
}
