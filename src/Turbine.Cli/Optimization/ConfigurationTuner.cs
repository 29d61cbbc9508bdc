using System.Globalization;
using System.Text.Json.Nodes;
using Turbine.Cli.Bench;
using Turbine.Client;
using Turbine.Server.Hosting;

namespace Turbine.Cli.Optimization;

/// <summary>One serving configuration the tuner tried.</summary>
/// <param name="Instances">Instances of the model (<c>instance_group.count</c>).</param>
/// <param name="IntraOpThreads">ONNX Runtime's intra-op threads per instance; 0 is the process's shared pool.</param>
/// <param name="MaxBatchSize">The model's <c>max_batch_size</c> (0: no batching).</param>
/// <param name="DelayMicroseconds">Dynamic batching's queue delay.</param>
public sealed record TuneConfig(int Instances, int IntraOpThreads, int MaxBatchSize, int DelayMicroseconds)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"instances {Instances}, intra-op threads {(IntraOpThreads == 0 ? "shared" : IntraOpThreads.ToString(CultureInfo.InvariantCulture))}, max batch {MaxBatchSize}, delay {DelayMicroseconds} µs";
}

/// <summary>A configuration and what the load measured against it.</summary>
/// <param name="Number">The order it was tried in, from 1.</param>
/// <param name="Config">The configuration.</param>
/// <param name="Throughput">Requests per second.</param>
/// <param name="P99Ms">The 99th percentile latency seen by the client.</param>
/// <param name="MeetsLimit">Whether the p99 is within the limit.</param>
public sealed record TuneTrial(int Number, TuneConfig Config, double Throughput, double P99Ms, bool MeetsLimit);

/// <summary>What the search found.</summary>
/// <param name="Model">The model.</param>
/// <param name="MeasuredAt">When.</param>
/// <param name="Cores">Cores of the machine.</param>
/// <param name="MaxP99Ms">The latency limit.</param>
/// <param name="Concurrency">Concurrent clients of every trial.</param>
/// <param name="Trials">Every configuration tried, in order.</param>
/// <param name="Pareto">The trials no other beats on both throughput and p99, by throughput.</param>
/// <param name="Recommended">The best trial within the limit (the lowest p99 when none is).</param>
public sealed record TuneReport(string Model, DateTimeOffset MeasuredAt, int Cores, double MaxP99Ms, int Concurrency, IReadOnlyList<TuneTrial> Trials, IReadOnlyList<TuneTrial> Pareto, TuneTrial Recommended);

/// <summary>
/// The configuration search of <c>turbine optimize --tune</c> (the job of Triton's Model Analyzer): each trial serves
/// the model from a scratch repository with one configuration on a real in-process server and loads it with
/// <c>turbine bench</c>'s closed loop. The search goes one setting at a time (batching, then instances, then threads),
/// keeps the best value of each before the next, and stops scanning a setting once a value loses clearly, so it tries a
/// handful of configurations where the full grid would be a hundred.
/// </summary>
internal sealed class ConfigurationTuner(string modelFolder, long version, string modelFile, double maxP99Ms, int concurrency, TimeSpan window, ProgressLine progress, TimeProvider time)
{
    private readonly List<TuneTrial> _trials = [];

    public async Task<TuneReport> RunAsync(CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(modelFolder));
        var baseConfig = ReadConfig();
        var batching = (baseConfig["max_batch_size"]?.GetValue<int>() ?? 0) > 0;
        var cores = Environment.ProcessorCount;
        var scratch = Path.Combine(Path.GetTempPath(), $"turbine-tune-{Guid.NewGuid():N}");
        var versionFolder = Path.Combine(scratch, name, version.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(versionFolder);
        File.Copy(Path.Combine(modelFolder, version.ToString(CultureInfo.InvariantCulture), modelFile), Path.Combine(versionFolder, modelFile));
        try
        {
            var best = await TryAsync(scratch, name, baseConfig, new TuneConfig(1, 0, batching ? baseConfig["max_batch_size"]!.GetValue<int>() : 0, 0), cancellationToken);
            var axes = new List<Func<TuneConfig, IEnumerable<TuneConfig>>>();
            if (batching)
            {
                axes.Add(c => new[] { (8, 0), (8, 500), (32, 0), (32, 500), (32, 2000), (64, 2000) }.Select(b => c with { MaxBatchSize = b.Item1, DelayMicroseconds = b.Item2 }));
            }

            axes.Add(c => new[] { 2, cores, cores * 2 }.Distinct().Select(n => c with { Instances = n }));
            axes.Add(c => new[] { 1, Math.Max(1, cores / c.Instances), cores }.Distinct().Select(t => c with { IntraOpThreads = t }));
            foreach (var axis in axes)
            {
                var start = best;
                foreach (var candidate in axis(start.Config))
                {
                    var trial = _trials.FirstOrDefault(t => t.Config == candidate) ?? await TryAsync(scratch, name, baseConfig, candidate, cancellationToken);
                    if (Better(trial, best))
                    {
                        best = trial;
                    }
                    else if (trial.Throughput < best.Throughput * 0.8 && trial.P99Ms > best.P99Ms)
                    {
                        break; // clearly worse on both: the larger values of this setting will not turn it round
                    }
                }
            }

            var pareto = _trials.Where(t => !_trials.Any(o => o.Throughput > t.Throughput && o.P99Ms < t.P99Ms)).OrderBy(t => t.Throughput).ToList();
            return new TuneReport(name, time.GetUtcNow(), cores, maxP99Ms, concurrency, [.. _trials], pareto, best);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>The model's config with a trial's settings in it: what the recommended configuration is written as.</summary>
    public JsonObject Apply(TuneConfig config)
    {
        var json = ReadConfig();
        json["max_batch_size"] = config.MaxBatchSize;
        if (config.MaxBatchSize > 1)
        {
            var dynamic = json["dynamic_batching"] as JsonObject ?? [];
            dynamic["max_queue_delay_microseconds"] = config.DelayMicroseconds;
            json["dynamic_batching"] = dynamic;
        }
        else
        {
            json.Remove("dynamic_batching");
        }

        json["instance_group"] = new JsonArray(new JsonObject { ["count"] = config.Instances, ["kind"] = "KIND_CPU" });
        var runtime = json["onnxruntime"] as JsonObject ?? [];
        runtime["intra_op_threads"] = config.IntraOpThreads;
        json["onnxruntime"] = runtime;
        return json;
    }

    /// <summary>Within the limit beats outside it; then more throughput within it, or less latency outside it.</summary>
    private static bool Better(TuneTrial a, TuneTrial b) => a.MeetsLimit != b.MeetsLimit ? a.MeetsLimit : a.MeetsLimit ? a.Throughput > b.Throughput : a.P99Ms < b.P99Ms;

    private JsonObject ReadConfig()
    {
        var path = Path.Combine(modelFolder, "config.json");
        return File.Exists(path)
            ? JsonNode.Parse(File.ReadAllText(path), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 64 })!.AsObject()
            : [];
    }

    private async Task<TuneTrial> TryAsync(string scratch, string name, JsonObject baseConfig, TuneConfig config, CancellationToken cancellationToken)
    {
        var number = _trials.Count + 1;
        progress.Update($"trial {number}: {config}: starting the server");
        var json = Apply(config);
        json.Remove("name");
        await File.WriteAllTextAsync(Path.Combine(scratch, name, "config.json"), json.ToJsonString(), cancellationToken);
        await using var server = TurbineServer.Create(["--Logging:LogLevel:Default=Warning"], options =>
        {
            options.ModelRepository = scratch;
            options.Host = "127.0.0.1";
            options.HttpPort = 0;
            options.GrpcPort = 0;
            options.MetricsPort = -1;
        });
        await server.StartAsync(cancellationToken);
        using var client = new TurbineHttpClient(new Uri($"http://127.0.0.1:{server.HttpPort}/")) { BinaryInputs = true };
        var metadata = await client.GetModelMetadataAsync(name, null, cancellationToken);
        using var request = RandomInputs.Create(metadata, null, 1, new Random(42));
        var settings = new BenchSettings
        {
            Model = name,
            Protocol = "rest-binary",
            Concurrency = [concurrency],
            Window = window,
            WarmUp = window / 2,
            MaxWindows = 3,
        };
        var step = (await new BenchRunner(client, settings, request, progress).RunAsync(cancellationToken))[0];
        var trial = new TuneTrial(number, config, step.Client.Throughput, step.Client.P99Ms, step.Client.P99Ms <= maxP99Ms);
        _trials.Add(trial);
        return trial;
    }
}
