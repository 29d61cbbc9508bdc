using System.Text.Json;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// <c>turbine optimize</c> end to end: a kept candidate becomes the model's next version with its report beside it
/// and passes the scan; a rejected one leaves the model as it was and says why; usage and data errors are told apart
/// by their exit codes. Thresholds make the verdicts independent of this machine's speed.
/// </summary>
public sealed class OptimizeCommandTests : IDisposable
{
    private readonly TestRepository _repository = new();

    public void Dispose() => _repository.Dispose();

    [Fact]
    public async Task A_kept_candidate_becomes_the_next_version_with_its_report_and_passes_the_scan()
    {
        var folder = AddModel("dense");
        var reports = Path.Combine(_repository.Root, "reports");

        var (exit, output) = await CliProcess.RunRawAsync(
            "optimize", folder, "--data", Data(), "--passes", "int8", "--batch", "1,2", "--rounds", "1", "--round-ms", "50",
            "--min-speedup", "0", "--max-accuracy-drop", "1", "--report-dir", reports);

        Assert.True(exit == 0, output);
        var version = Path.Combine(folder, "2");
        Assert.Contains($"kept int8 as {version}", output, StringComparison.Ordinal);
        Assert.Contains("[##############################] 100% measured", output, StringComparison.Ordinal);
        foreach (var file in new[] { "model.onnx", "optimization-report.json", "optimization-report.md", "optimization-report.svg" })
        {
            Assert.True(File.Exists(Path.Combine(version, file)), file);
        }

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(version, "optimization-report.json")));
        Assert.Equal("int8", report.RootElement.GetProperty("chosen").GetString());
        Assert.Equal("dense version 1", report.RootElement.GetProperty("model").GetString());
        Assert.Equal("top1", report.RootElement.GetProperty("metric").GetString()); // auto: the model has a class-id output
        Assert.StartsWith("<svg", File.ReadAllText(Path.Combine(version, "optimization-report.svg")), StringComparison.Ordinal);
        Assert.Contains("| int8 | **kept** |", File.ReadAllText(Path.Combine(reports, "optimization-report.md")), StringComparison.Ordinal);
        var scan = await CliProcess.RunRawAsync("scan", folder);
        Assert.True(scan.ExitCode == 0, scan.Output);
        Assert.DoesNotContain("PASS with warnings", scan.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_kept_candidate_can_go_to_another_model_folder_with_the_config_renamed()
    {
        var folder = AddModel("dense");
        var target = Path.Combine(_repository.Root, "dense-int8");

        var (exit, output) = await CliProcess.RunRawAsync(
            "optimize", folder, "--data", Data(), "--passes", "int8", "--batch", "1", "--rounds", "1", "--round-ms", "50",
            "--min-speedup", "0", "--max-accuracy-drop", "1", "--output", target, "--report-dir", Path.Combine(_repository.Root, "reports"));

        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(target, "1", "model.onnx")));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "config.json")));
        Assert.Equal("dense-int8", config.RootElement.GetProperty("name").GetString());
        Assert.Equal(64, config.RootElement.GetProperty("max_batch_size").GetInt32());
    }

    [Fact]
    public async Task Nothing_that_misses_the_goal_is_kept_and_the_report_says_why()
    {
        var folder = AddModel("dense");
        var reports = Path.Combine(_repository.Root, "reports");

        var (exit, output) = await CliProcess.RunRawAsync(
            "optimize", folder, "--data", Data(), "--passes", "int8,graph+int8", "--batch", "1", "--rounds", "1", "--round-ms", "50",
            "--min-speedup", "1000", "--report-dir", reports);

        Assert.True(exit == 3, output);
        Assert.Contains("under the 1000.00x the latency goal needs", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(folder, "2")));
        Assert.Contains("No candidate met the goal; the original stays.", File.ReadAllText(Path.Combine(reports, "optimization-report.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_errors_and_unusable_data_have_their_own_exit_codes()
    {
        var folder = AddModel("dense");
        var wrongData = Path.Combine(_repository.Root, "wrong.jsonl");
        File.WriteAllText(wrongData, """{"inputs": [{"name": "other", "shape": [1, 64], "datatype": "FP32", "data": [0]}]}""" + "\n");

        var unknownPass = await CliProcess.RunRawAsync("optimize", folder, "--data", Data(), "--passes", "int9");
        var noModel = await CliProcess.RunRawAsync("optimize", _repository.Root, "--data", Data());
        var badData = await CliProcess.RunRawAsync("optimize", folder, "--data", wrongData);
        var badSetting = await CliProcess.RunRawAsync("optimize", folder, "--data", Data(), "--passes", "qdq:loudest", "--batch", "1", "--rounds", "1", "--round-ms", "50");

        Assert.True(unknownPass.ExitCode == 1, unknownPass.Output);
        Assert.Contains("unknown pass 'int9'", unknownPass.Output, StringComparison.Ordinal);
        Assert.True(noModel.ExitCode == 1, noModel.Output);
        Assert.True(badData.ExitCode == 2, badData.Output);
        Assert.Contains("wrong.jsonl line 1: the request has no input 'features'", badData.Output, StringComparison.Ordinal);
        Assert.True(badSetting.ExitCode == 3, badSetting.Output); // a candidate whose pass fails is rejected, not a crash
        Assert.Contains("the pass failed: pass 'qdq:loudest': 'loudest' is not a setting it takes", badSetting.Output, StringComparison.Ordinal);
    }

    /// <summary>SECURITY.md A24: a data file is parsed with bounded depth, and every row must fit the model.</summary>
    [Theory]
    [InlineData("deep", "line 2: ")]
    [InlineData("text", "line 1: ")]
    [InlineData("ragged", "line 1: input 'features': 3 values are not a whole number of rows")]
    [InlineData("shape", "line 1: input 'features': rows of shape [65] where [64] belongs")]
    [InlineData("empty", "holds no requests")]
    public async Task A_hostile_data_file_is_refused_with_the_line_and_the_reason(string kind, string expected)
    {
        var folder = AddModel("dense");
        var path = Path.Combine(_repository.Root, $"{kind}.jsonl");
        var row = string.Join(",", Enumerable.Repeat("0.5", 64));
        File.WriteAllText(path, kind switch
        {
            "deep" => $$"""{"inputs": [{"name": "features", "shape": [1, 64], "data": [{{row}}]}]}""" + "\n" + new string('[', 100_000) + "\n",
            "text" => """{"inputs": [{"name": "features", "shape": [1, 64], "data": ["a"]}]}""",
            "ragged" => """{"inputs": [{"name": "features", "shape": [1, 64], "data": [1, 2, 3]}]}""",
            "shape" => """{"inputs": [{"name": "features", "shape": [1, 65], "data": [1]}]}""",
            _ => "\n\n",
        });

        var (exit, output) = await CliProcess.RunRawAsync("optimize", folder, "--data", path);

        Assert.True(exit == 2, output);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal); // a reason, never a stack trace
    }

    [Fact]
    public async Task The_edge_target_keeps_the_most_accurate_candidate_within_the_device_budgets()
    {
        var folder = AddModel("dense"); // 80 KiB of fp32 weights
        var reports = Path.Combine(_repository.Root, "reports");

        var (exit, output) = await CliProcess.RunRawAsync(
            "optimize", folder, "--data", Data(), "--target", "edge", "--max-size-mb", "0.05", "--max-latency-ms", "1000", "--edge-threads", "1",
            "--rounds", "1", "--round-ms", "50", "--max-accuracy-drop", "1", "--report-dir", reports);

        Assert.True(exit == 0, output);
        Assert.Contains("over the device's budget of 52,428", output, StringComparison.Ordinal); // the lossless graph pass keeps the size
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(reports, "optimization-report.json")));
        var candidates = report.RootElement.GetProperty("candidates").EnumerateArray().ToList();
        Assert.Equal(["graph", "int8", "qdq", "int4"], candidates.Select(c => c.GetProperty("name").GetString()));
        var kept = candidates.Single(c => c.GetProperty("name").GetString() == report.RootElement.GetProperty("chosen").GetString());
        Assert.True(kept.GetProperty("bytes").GetInt64() <= 52_428);
        var fitting = candidates.Where(c => c.GetProperty("accepted").GetBoolean()).ToList();
        Assert.Equal(fitting.Min(c => c.GetProperty("accuracy_drop").GetDouble()), kept.GetProperty("accuracy_drop").GetDouble());
        Assert.True(File.Exists(Path.Combine(folder, "2", "model.onnx")));
    }

    [Fact]
    public async Task The_edge_target_needs_a_budget_and_keeps_nothing_when_nothing_fits()
    {
        var folder = AddModel("dense");

        var (usage, usageOutput) = await CliProcess.RunRawAsync("optimize", folder, "--data", Data(), "--target", "edge");
        var (none, noneOutput) = await CliProcess.RunRawAsync(
            "optimize", folder, "--data", Data(), "--target", "edge", "--max-size-mb", "0.001", "--rounds", "1", "--round-ms", "50",
            "--report-dir", Path.Combine(_repository.Root, "reports"));

        Assert.True(usage == 1, usageOutput);
        Assert.Contains("--target edge needs a budget", usageOutput, StringComparison.Ordinal);
        Assert.True(none == 3, noneOutput);
        Assert.False(Directory.Exists(Path.Combine(folder, "2")));
    }

    private string AddModel(string name)
    {
        _repository.Add(name, SampleModels.Mlp(inputs: 64, hidden: 256, classes: 16), $$"""{ "name": "{{name}}", "max_batch_size": 64 }""");
        return Path.Combine(_repository.Root, name);
    }

    /// <summary>32 requests of one row each, as a client would send them.</summary>
    private string Data()
    {
        var path = Path.Combine(_repository.Root, "data.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, 32).Select(row => JsonSerializer.Serialize(new
        {
            inputs = new[] { new { name = "features", shape = new[] { 1, 64 }, datatype = "FP32", data = Enumerable.Range(0, 64).Select(i => MathF.Sin((row * 64) + i)).ToArray() } },
        })));
        return path;
    }
}
