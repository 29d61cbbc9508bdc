using Turbine.Core.Repository;
using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Core.Tests;

/// <summary>A repository written for Triton's ONNX Runtime backend, with config.pbtxt, loads unchanged.</summary>
public sealed class TritonTextConfigTests : IDisposable
{
    /// <summary>The shape of config Triton's docs and model zoos ship: comments, enums, lists, maps and fields Turbine ignores.</summary>
    private const string SimplePbtxt = """
        # Triton's classic "simple" example, for the ONNX Runtime backend
        name: "simple"
        platform: "onnxruntime_onnx"
        max_batch_size: 8
        version_policy: { latest: { num_versions: 1 } }
        input [
          {
            name: "INPUT0"
            data_type: TYPE_INT32
            format: FORMAT_NONE
            dims: [ 16 ]
          },
          {
            name: "INPUT1"
            data_type: TYPE_INT32
            dims: [ 16 ]
          }
        ]
        output [
          { name: "OUTPUT0", data_type: TYPE_INT32, dims: [ 16 ] },
          { name: "OUTPUT1", data_type: TYPE_INT32, dims: [ 16 ] }
        ]
        instance_group [ { kind: KIND_CPU count: 2 } ]
        dynamic_batching {
          preferred_batch_size: [ 4, 8 ]
          max_queue_delay_microseconds: 100
          priority_levels: 2
          default_priority_level: 2
          priority_queue_policy { key: 1 value: { max_queue_size: 16 timeout_action: DELAY } }
        }
        optimization { execution_accelerators { cpu_execution_accelerator : [ { name : "openvino" } ] } }
        parameters { key: "intra_op_thread_count" value: { string_value: "1" } }
        model_warmup {
          name: "zeros"
          batch_size: 2
          count: 3
          inputs { key: "INPUT0" value: { data_type: TYPE_INT32 dims: [ 16 ] zero_data: true } }
          inputs { key: "INPUT1" value: { data_type: TYPE_INT32 dims: [ 16 ] input_data_file: "in1.raw" } }
        }
        """;

    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void The_fields_turbine_supports_are_honoured_and_the_others_are_named()
    {
        var definition = Read(SimplePbtxt);

        Assert.Equal(Array.Empty<string>(), definition.Errors);
        var config = definition.Config!;
        Assert.Equal(8, config.MaxBatchSize);
        Assert.Equal(["INPUT0", "INPUT1"], config.Inputs.Select(i => i.Name));
        Assert.Equal([16L], config.Inputs[0].Dims);
        Assert.Equal(DataType.Int32, config.Outputs[1].DataType);
        Assert.Equal(2, config.InstanceCount);
        Assert.Equal([4, 8], config.DynamicBatching!.PreferredBatchSizes);
        Assert.Equal(100, config.DynamicBatching.MaxQueueDelayMicroseconds);
        Assert.Equal(2, config.DynamicBatching.PriorityLevels);
        Assert.Equal(new QueuePolicyConfig(RejectOnTimeout: false, MaxQueueSize: 16), config.DynamicBatching.PriorityQueuePolicies[1]);
        Assert.Equal(["parameters", "optimization.execution_accelerators.cpu_execution_accelerator", "input[0].format"], definition.Unsupported);
        var warmup = Assert.Single(config.Warmup);
        Assert.Equal(("zeros", 2, 3), (warmup.Name, warmup.BatchSize, warmup.Count));
        Assert.Equal(
            [new WarmupInput("INPUT0", DataType.Int32, [16], WarmupDataKind.Zero), new WarmupInput("INPUT1", DataType.Int32, [16], WarmupDataKind.File, "in1.raw")],
            warmup.Inputs,
            new WarmupInputComparer());
    }

    [Theory]
    [InlineData("max_batch_size: 8\ninput [ { name: \"INPUT0\" ", "config.pbtxt: line 2: the file ends before the closing '}'")]
    [InlineData("input [ { name: \"INPUT0\" } ", "config.pbtxt: line 1: the file ends before the closing ']'")]
    [InlineData("input { name: ! }", "config.pbtxt: line 1: expected a value, found '!'")]
    [InlineData("name: \"simple\nmax_batch_size: 8", "config.pbtxt: line 2: a string is not closed")]
    [InlineData("max_batch_size 8", "config.pbtxt: line 1: expected ':' or '{' after 'max_batch_size'")]
    public void A_malformed_file_is_reported_with_its_line(string text, string expected)
    {
        var definition = Read(text);

        Assert.Null(definition.Config);
        Assert.Contains(expected, string.Join("|", definition.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_nesting_is_an_error_not_a_stack_overflow()
    {
        var definition = Read("a " + string.Concat(Enumerable.Repeat("{ b ", 10_000)));

        Assert.Contains(definition.Errors, error => error.Contains("nesting deeper than", StringComparison.Ordinal));
    }

    [Fact]
    public void A_folder_with_both_config_files_is_an_error()
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16), """{ "max_batch_size": 8 }""");
        File.WriteAllText(Path.Combine(_files.Root, "simple", "config.pbtxt"), SimplePbtxt);

        var definition = new ModelRepository(_files.Root).Read("simple", BackendRegistry.Of(new OnnxBackend()));

        Assert.Contains("the model folder has both config.json and config.pbtxt; keep one", definition.Errors);
    }

    private ModelDefinition Read(string pbtxt)
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16));
        File.WriteAllText(Path.Combine(_files.Root, "simple", "config.pbtxt"), pbtxt);
        return new ModelRepository(_files.Root).Read("simple", BackendRegistry.Of(new OnnxBackend()));
    }

    /// <summary>Records compare arrays by reference; warm-up inputs are equal when their dims are too.</summary>
    private sealed class WarmupInputComparer : IEqualityComparer<WarmupInput>
    {
        public bool Equals(WarmupInput? x, WarmupInput? y) =>
            x is not null && y is not null && x with { Dims = [] } == y with { Dims = [] } && x.Dims.SequenceEqual(y.Dims);

        public int GetHashCode(WarmupInput obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
