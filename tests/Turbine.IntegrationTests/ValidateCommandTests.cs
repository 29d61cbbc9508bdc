using System.Text.Json;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary><c>turbine validate</c> as a CI step runs it: one line per check and an exit code per failure class.</summary>
public sealed class ValidateCommandTests : IDisposable
{
    private readonly TestRepository _repository = new();

    public void Dispose() => _repository.Dispose();

    [Fact]
    public async Task A_sound_model_passes_every_check_with_exit_code_0()
    {
        var folder = Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        var golden = Golden(([1, 2, 3, 4], [10, 20, 30, 40], [11, 22, 33, 44]), ([0, 0, 0, 0], [5, 5, 5, 5], [5, 5, 5, 5]));

        var (exit, output) = await CliProcess.RunRawAsync("validate", folder, "--golden", golden, "--latency-budget-ms", "1000", "--batch", "1,8", "--requests", "20");

        Assert.True(exit == 0, output);
        Assert.Contains("config   PASS  model 'simple': 2 inputs, 2 outputs, max_batch_size 8", output, StringComparison.Ordinal);
        Assert.Contains("load     PASS", output, StringComparison.Ordinal);
        Assert.Contains("golden   PASS  2 case(s)", output, StringComparison.Ordinal);
        Assert.Contains("latency  PASS  batch 8:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_failure_class_has_its_own_exit_code()
    {
        var mismatch = Add("mismatch", SampleModels.AddSub(DataType.Int32, 4), """{ "input": [ { "name": "NOPE", "data_type": "TYPE_INT32", "dims": [4] } ] }""");
        var unloadable = Add("unloadable", new OnnxModelBuilder("unloadable")
            .Input("x", DataType.Fp32, -1, 2).Node("NoSuchOperator", ["x"], ["y"]).Output("y", DataType.Fp32, -1, 2).ToBytes());
        var simple = Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        var wrong = Golden(([1, 2, 3, 4], [10, 20, 30, 40], [11, 22, 33, 45]));

        var config = await CliProcess.RunRawAsync("validate", mismatch);
        var load = await CliProcess.RunRawAsync("validate", unloadable);
        var golden = await CliProcess.RunRawAsync("validate", simple, "--golden", wrong);
        var latency = await CliProcess.RunRawAsync("validate", simple, "--latency-budget-ms", "0.000001", "--requests", "5");

        Assert.True(config.ExitCode == 2, config.Output);
        Assert.Contains("config   FAIL", config.Output, StringComparison.Ordinal);
        Assert.Contains("'NOPE'", config.Output, StringComparison.Ordinal);
        Assert.True(load.ExitCode == 3, load.Output);
        Assert.Contains("load     FAIL", load.Output, StringComparison.Ordinal);
        Assert.True(golden.ExitCode == 4, golden.Output);
        Assert.Contains("output 'OUTPUT0'[3] is 44, expected 45", golden.Output, StringComparison.Ordinal);
        Assert.True(latency.ExitCode == 5, latency.Output);
        Assert.Contains("latency  FAIL  batch 1:", latency.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_golden_file_that_is_not_json_lines_is_a_clear_failure_not_a_stack_trace()
    {
        var simple = Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        var broken = Path.Combine(_repository.Root, "broken.jsonl");
        await File.WriteAllTextAsync(broken, "{ not json\n");

        var (exit, output) = await CliProcess.RunRawAsync("validate", simple, "--golden", broken);
        var missing = await CliProcess.RunRawAsync("validate", simple, "--golden", Path.Combine(_repository.Root, "nowhere.jsonl"));

        Assert.True(exit == 4, output);
        Assert.Contains("line 1 is not JSON", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.True(missing.ExitCode == 1, missing.Output);
        Assert.Contains("does not exist", missing.Output, StringComparison.Ordinal);
    }

    private string Add(string name, byte[] model, string? config = null)
    {
        _repository.Add(name, model, config);
        return Path.Combine(_repository.Root, name);
    }

    /// <summary>Golden cases for the add/sub model: two inputs and the expected OUTPUT0 (their sum).</summary>
    private string Golden(params (int[] A, int[] B, int[] Sum)[] cases)
    {
        var path = Path.Combine(_repository.Root, $"golden-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, cases.Select(c => JsonSerializer.Serialize(new
        {
            request = new
            {
                inputs = new object[]
                {
                    new { name = "INPUT0", shape = new[] { 1, 4 }, datatype = "INT32", data = c.A },
                    new { name = "INPUT1", shape = new[] { 1, 4 }, datatype = "INT32", data = c.B },
                },
            },
            expected = new Dictionary<string, int[]> { ["OUTPUT0"] = c.Sum },
        })));
        return path;
    }
}
