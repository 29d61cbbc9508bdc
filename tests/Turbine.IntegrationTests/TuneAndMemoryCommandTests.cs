using System.Text.Json;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// <c>turbine optimize --tune</c> (configurations tried on real servers, the Pareto front, the recommended config
/// written) and <c>turbine memory</c> (session memory per batch size and arena setting, each in a fresh process).
/// </summary>
public sealed class TuneAndMemoryCommandTests : IDisposable
{
    private readonly TestRepository _repository = new();

    public void Dispose() => _repository.Dispose();

    [Fact]
    public async Task Tune_tries_configurations_on_real_servers_and_writes_the_recommended_config()
    {
        var folder = AddModel();
        var reports = Path.Combine(_repository.Root, "tune");

        var (exit, output) = await CliProcess.RunRawAsync(
            "optimize", folder, "--tune", "--max-p99-ms", "1000", "--concurrency", "2", "--window-s", "0.2", "--report-dir", reports);

        Assert.True(exit == 0, output);
        Assert.Contains("recommended: trial ", output, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(reports, "tune-report.json")));
        var trials = report.RootElement.GetProperty("trials").EnumerateArray().ToList();
        Assert.True(trials.Count >= 4, $"{trials.Count} trials"); // the batching, instance and thread settings each tried
        Assert.True(trials.Count < 14, $"{trials.Count} trials"); // fewer than the settings' full grid
        Assert.All(trials, t => Assert.True(t.GetProperty("throughput").GetDouble() > 0 && t.GetProperty("meets_limit").GetBoolean()));
        Assert.NotEmpty(report.RootElement.GetProperty("pareto").EnumerateArray());
        var recommended = report.RootElement.GetProperty("recommended").GetProperty("config");
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.tuned.json")));
        Assert.Equal(recommended.GetProperty("instances").GetInt32(), config.RootElement.GetProperty("instance_group")[0].GetProperty("count").GetInt32());
        Assert.Equal(recommended.GetProperty("max_batch_size").GetInt32(), config.RootElement.GetProperty("max_batch_size").GetInt32());
        Assert.Equal("tuned", config.RootElement.GetProperty("name").GetString());
        Assert.Contains("**(recommended)**", File.ReadAllText(Path.Combine(reports, "tune-report.md")), StringComparison.Ordinal);
        Assert.Contains("<polyline", File.ReadAllText(Path.Combine(reports, "tune-report.svg")), StringComparison.Ordinal);
        var validate = await CliProcess.RunRawAsync("validate", Path.Combine(_repository.Root, "tuned"));
        Assert.True(validate.ExitCode == 0, validate.Output); // the original config still validates beside the tuned one
    }

    [Fact]
    public async Task Memory_measures_every_arena_setting_per_batch_size_in_fresh_processes()
    {
        var folder = AddModel();

        var (exit, output) = await CliProcess.RunRawAsync("memory", folder, "--batch", "1,16", "--json");

        Assert.True(exit == 0, output);
        var json = output[output.IndexOf('[', StringComparison.Ordinal)..(output.LastIndexOf(']') + 1)]; // stdout's JSON, without the progress lines of stderr
        var results = JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
        Assert.Equal(8, results.Count);
        Assert.Equal([1, 1, 1, 1, 16, 16, 16, 16], results.Select(r => r.GetProperty("batch_size").GetInt32()));
        Assert.All(results, r => Assert.True(r.GetProperty("peak_bytes").GetInt64() >= r.GetProperty("retained_bytes").GetInt64() && r.GetProperty("peak_bytes").GetInt64() > 0));
        Assert.Equal(4, results.Select(r => (r.GetProperty("cpu_mem_arena").GetBoolean(), r.GetProperty("mem_pattern").GetBoolean())).Distinct().Count());
    }

    private string AddModel()
    {
        _repository.Add("tuned", SampleModels.Mlp(inputs: 16, hidden: 64, classes: 4), """{ "name": "tuned", "max_batch_size": 16 }""");
        return Path.Combine(_repository.Root, "tuned");
    }
}
