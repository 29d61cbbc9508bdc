using System.Text.Json;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary><c>turbine scan</c> as a CI step runs it: a verdict per version, a line per finding, exit code 2 when anything blocks.</summary>
public sealed class ScanCommandTests : IDisposable
{
    private readonly TestRepository _repository = new();

    public void Dispose() => _repository.Dispose();

    [Fact]
    public async Task Every_version_of_a_model_folder_is_scanned_and_a_pickle_blocks()
    {
        _repository.Add("simple", SampleModels.AddSub(DataType.Int32, 4), version: 1).Add("simple", SampleModels.AddSub(DataType.Int32, 4), version: 2);
        File.WriteAllBytes(Path.Combine(_repository.Root, "simple", "2", "extra.bin"), [0x80, 0x03, 0x00]);
        var folder = Path.Combine(_repository.Root, "simple");

        var blocked = await CliProcess.RunRawAsync("scan", folder);
        var relaxed = await CliProcess.RunRawAsync("scan", folder, "--warn-only", "pickle");
        var json = await CliProcess.RunRawAsync("scan", Path.Combine(folder, "2"), "--json");

        Assert.True(blocked.ExitCode == 2, blocked.Output);
        Assert.Contains($"{Path.Combine(folder, "1", "model.onnx")}: PASS", blocked.Output, StringComparison.Ordinal);
        Assert.Contains($"{Path.Combine(folder, "2", "model.onnx")}: BLOCKED", blocked.Output, StringComparison.Ordinal);
        Assert.Contains("  block  pickle              extra.bin: a Python pickle", blocked.Output, StringComparison.Ordinal);
        Assert.True(relaxed.ExitCode == 0, relaxed.Output);
        Assert.Contains(": PASS with warnings", relaxed.Output, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 2, json.Output);
        var report = JsonDocument.Parse(json.Output).RootElement.EnumerateArray().Single();
        Assert.True(report.GetProperty("blocked").GetBoolean());
        Assert.Equal("pickle", report.GetProperty("findings")[0].GetProperty("kind").GetString());
    }

    [Fact]
    public async Task A_path_that_is_not_a_model_or_a_setting_that_weakens_the_scan_is_a_usage_error()
    {
        var missing = await CliProcess.RunRawAsync("scan", Path.Combine(_repository.Root, "nothing-here"));
        var weakened = await CliProcess.RunRawAsync("scan", _repository.Root, "--warn-only", "external-data");

        Assert.True(missing.ExitCode == 1, missing.Output);
        Assert.Contains("is neither a model file nor a folder", missing.Output, StringComparison.Ordinal);
        Assert.True(weakened.ExitCode == 1, weakened.Output);
        Assert.Contains("'external-data' cannot be made a warning", weakened.Output, StringComparison.Ordinal);
    }
}
