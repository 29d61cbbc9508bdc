namespace Turbine.IntegrationTests;

/// <summary>
/// The operator's manifests and output from the shell: its CRD, account and pod render and pass the Kubernetes
/// schemas; `turbine operator render` turns TurbineModels of each shape into objects that pass the Kubernetes, KEDA,
/// Prometheus-operator and Gateway API schemas; the CRD's OpenAPI schema takes the sample and refuses a bad model.
/// </summary>
public sealed class OperatorManifestTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("turbine-operator-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Operator(params string[] parts) => Path.Combine([CliProcess.RepositoryRoot(), "deploy", "kubernetes", "operator", .. parts]);

    private static async Task<string> ValidAsync(string yaml)
    {
        var (exit, report, errors) = await ChildProcess.ValidateKubernetesAsync(yaml);
        Assert.True(exit == 0, report + errors);
        return report;
    }

    [Fact]
    public async Task The_operators_kustomization_renders_and_passes_the_schemas_and_the_cli_prints_the_same_crd()
    {
        var (exit, rendered, errors) = await ChildProcess.RunAsync("kubectl", ["kustomize", Operator()]);
        Assert.True(exit == 0, errors);

        var report = await ValidAsync(rendered);

        Assert.Contains("ok CustomResourceDefinition turbinemodels.serving.turbine.dev", report, StringComparison.Ordinal);
        Assert.Contains("ok ClusterRole turbine-operator", report, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllTextAsync(Operator("crd.yaml")), await CliProcess.RunAsync("operator", "crd"));
    }

    [Fact]
    public async Task The_crd_schema_takes_the_sample_and_refuses_a_malformed_model()
    {
        var crd = await File.ReadAllTextAsync(Operator("crd.yaml"));
        var report = await ValidAsync(crd + "---\n" + await File.ReadAllTextAsync(Operator("sample-turbinemodel.yaml")));
        Assert.Contains("ok TurbineModel fraud", report, StringComparison.Ordinal);

        var (exit, refused, _) = await ChildProcess.ValidateKubernetesAsync(crd + """
            ---
            apiVersion: serving.turbine.dev/v1alpha1
            kind: TurbineModel
            metadata: {name: bad}
            spec: {model: "no alias", replicas: -1, autoscaling: {engine: GKE}}
            """);
        Assert.Equal(1, exit);
        Assert.Contains("/spec/model must match pattern", refused, StringComparison.Ordinal);
        Assert.Contains("/spec/replicas must be >= 0", refused, StringComparison.Ordinal);
        Assert.Contains("/spec/autoscaling/engine must be equal to one of the allowed values", refused, StringComparison.Ordinal);
    }

    public static TheoryData<string, string[]> Shapes() => new()
    {
        { "model: fraud@champion\n  autoscaling: {engine: HPA, minReplicas: 2, maxReplicas: 10, metric: pending, target: 8}\n  routes: [{name: public, gateway: {name: public, namespace: gateway}, hostnames: [fraud.example.com]}]\n  serviceMonitor: true",
            ["Deployment", "Service", "PodDisruptionBudget", "ServiceMonitor", "HorizontalPodAutoscaler", "HTTPRoute"] },
        { "model: chat@prod\n  gpus: 1\n  autoscaling: {engine: KEDA, minReplicas: 0, maxReplicas: 4, metric: llm-waiting, target: 2.5}",
            ["Deployment", "Service", "ScaledObject"] },
        { "model: mlp@3\n  replicas: 3\n  resources: {requests: {cpu: 500m, memory: 512Mi}, limits: {cpu: '1', memory: 1Gi}}",
            ["Deployment", "Service", "PodDisruptionBudget"] },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Every_object_a_model_becomes_passes_its_schema(string spec, string[] kinds)
    {
        var model = Path.Combine(_folder, "model.yaml");
        await File.WriteAllTextAsync(model, $"apiVersion: serving.turbine.dev/v1alpha1\nkind: TurbineModel\nmetadata:\n  name: sample\n  namespace: models\nspec:\n  {spec}\n");

        var rendered = await CliProcess.RunAsync("operator", "render", "-f", model);
        var report = await ValidAsync(rendered);

        Assert.Equal(kinds.Select(k => $"ok {k} turbine-sample{(k == "HTTPRoute" ? "-public" : string.Empty)}"), report.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task An_invalid_model_is_refused_with_every_error()
    {
        var model = Path.Combine(_folder, "bad.yaml");
        await File.WriteAllTextAsync(model, "apiVersion: serving.turbine.dev/v1alpha1\nkind: TurbineModel\nmetadata: {name: Bad_Name}\nspec: {model: fraud, replicas: 2, autoscaling: {maxReplicas: 0}}\n");

        var (exit, output) = await CliProcess.RunRawAsync("operator", "render", "-f", model);

        Assert.Equal(1, exit);
        Assert.Contains("metadata.name: 'Bad_Name'", output, StringComparison.Ordinal);
        Assert.Contains("spec.model: 'fraud' must be model@alias", output, StringComparison.Ordinal);
        Assert.Contains("exclude each other", output, StringComparison.Ordinal);
        Assert.Contains("maxReplicas (0)", output, StringComparison.Ordinal);
    }
}
