using BenchmarkDotNet.Attributes;
using Turbine.Core.Observation;
using Turbine.Monitoring;
using Turbine.Monitoring.Cost;
using Turbine.Monitoring.Profiles;
using Turbine.Monitoring.Quality;

namespace Turbine.MicroBench;

/// <summary>
/// What monitoring adds per request (issue 17), on the bench's `mlp` shapes (16 input features, 4 probabilities):
/// the quality screen on the request path (rules derived from a profile plus one range over the whole input), the usage
/// record of the cost ledger, and, on the tap's thread, one observation taken into a drift window.
/// </summary>
[MemoryDiagnoser]
#pragma warning disable CA1001 // BenchmarkDotNet owns the lifetime: [GlobalCleanup] disposes the request and the observation
public class MonitoringBenchmarks
#pragma warning restore CA1001
{
    private const int Width = 16;
    private QualityRules _rules = null!;
    private InferenceRequest _request = null!;
    private CostLedger _ledger = null!;
    private VersionMonitor _monitor = null!;
    private ObservedInference _observation = null!;
    private readonly UsageAccount _account = new("team-a", null);

    [GlobalSetup]
    public void Setup()
    {
        var config = new ModelConfig
        {
            Name = "mlp",
            MaxBatchSize = 64,
            Inputs = [new TensorConfig("features", DataType.Fp32, [Width])],
            Outputs = [new TensorConfig("probabilities", DataType.Fp32, [4])],
        };
        var layout = FeatureLayout.For(config, "probabilities");
        var random = new Random(1);
        var builder = new ProfileBuilder("mlp", layout);
        for (var batch = 0; batch < 20; batch++)
        {
            using var input = Tensor.FromArray<float>("features", [64, Width], [.. Enumerable.Range(0, 64 * Width).Select(_ => (float)random.NextDouble())]);
            using var output = Tensor.FromArray<float>("probabilities", [64, 4], [.. Enumerable.Range(0, 64 * 4).Select(_ => (float)random.NextDouble() / 4)]);
            builder.Add(FeatureTable.Read(layout, [input], [output])!);
        }

        var profile = builder.Build(DateTimeOffset.UnixEpoch);
        var errors = new List<string>();
        var settings = new QualitySettings
        {
            FromProfile = QualityPolicy.Flag,
            Rules = [new QualityRule("features", -1000, 1000, null, false, QualityPolicy.Reject)],
        };
        _rules = QualityRules.Compile(config, layout, settings, profile, errors);
        _request = new InferenceRequest { ModelName = "mlp" };
        _request.Inputs.Add(Tensor.FromArray<float>("features", [1, Width], [.. Enumerable.Range(0, Width).Select(_ => 0.5f)]));
        _ledger = new CostLedger(new CostOptions(), () => []);
        _monitor = new VersionMonitor("mlp", "1", layout, new MonitoringSettings { Probabilities = "probabilities" }, profile, QualityRules.None, TimeProvider.System);
        _observation = new ObservedInference(
            DateTimeOffset.UnixEpoch, "mlp", "1", null, null, null,
            [Tensor.FromArray<float>("features", [1, Width], [.. Enumerable.Range(0, Width).Select(_ => 0.5f)])],
            [Tensor.FromArray<float>("probabilities", [1, 4], [0.1f, 0.2f, 0.3f, 0.4f])], TimeSpan.Zero, null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _request.Dispose();
        _observation.Dispose();
    }

    /// <summary>Every check of a request that passes them (the request path).</summary>
    [Benchmark]
    public InferenceError? QualityScreen() => _rules.Screen(_request, null);

    /// <summary>One usage record for a routed request with an API key (the request path).</summary>
    [Benchmark]
    public void UsageRecord() => _ledger.Record(new InferenceUsage("mlp", "checkout", "blue", 12_000, false, _account));

    /// <summary>One observation into the drift window (the tap's thread).</summary>
    [Benchmark]
    public void Observe() => _monitor.Observe(_observation);
}
