using Turbine.Core.Repository;
using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Core.Tests;

public sealed class ModelRepositoryTests : IDisposable
{
    private readonly TestRepository _files = new();
    private readonly BackendRegistry _backend = BackendRegistry.Of(new OnnxBackend());

    public void Dispose() => _files.Dispose();

    [Fact]
    public void A_model_without_config_is_completed_from_the_onnx_file()
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16));

        var definition = new ModelRepository(_files.Root).Read("simple", _backend);

        Assert.Empty(definition.Errors);
        var config = definition.Config!;
        Assert.Equal("simple", config.Name);
        Assert.Equal(ModelConfigCompleter.DefaultMaxBatchSize, config.MaxBatchSize);
        Assert.Equal(["INPUT0", "INPUT1"], config.Inputs.Select(i => i.Name));
        Assert.Equal([16L], config.Inputs[0].Dims);
        Assert.Equal(DataType.Int32, config.Outputs[1].DataType);
        Assert.Equal("all", OnnxRuntimeSettings.Of(config).GraphOptimizationLevel);
        Assert.False(OnnxRuntimeSettings.Of(config).AllowSpinning);
    }

    [Fact]
    public void A_partial_config_keeps_what_it_says_and_fills_the_rest()
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16), """{ "max_batch_size": 4, "input": [ { "name": "INPUT0", "dims": [16] }, { "name": "INPUT1" } ] }""");

        var config = new ModelRepository(_files.Root).Read("simple", _backend).Config!;

        Assert.Equal(4, config.MaxBatchSize);
        Assert.Equal(DataType.Int32, config.Inputs[0].DataType);
        Assert.Equal([16L], config.Inputs[1].Dims);
        Assert.Equal(2, config.Outputs.Count);
    }

    [Fact]
    public void A_model_without_a_batch_dimension_does_not_batch()
    {
        _files.Add("fixed", SampleModels.Identity(DataType.Fp32, 2, 3));

        var config = new ModelRepository(_files.Root).Read("fixed", _backend).Config!;

        Assert.Equal(0, config.MaxBatchSize);
        Assert.Equal([2L, 3L], config.Inputs[0].Dims);
    }

    [Fact]
    public void Validation_reports_every_error_at_once()
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16), """
            {
              "name": "other",
              "max_batch_size": -2,
              "input": [ { "name": "INPUT0", "data_type": "TYPE_FP32", "dims": [16] }, { "name": "NOPE", "data_type": "TYPE_INT32", "dims": [1] } ],
              "instance_group": [ { "count": 0 } ],
              "onnxruntime": { "graph_optimization_level": "max", "execution_providers": ["tpu"] }
            }
            """);

        var definition = new ModelRepository(_files.Root).Read("simple", _backend);

        Assert.Null(definition.Config);
        var errors = string.Join("\n", definition.Errors);
        Assert.Contains("folder is 'simple'", errors, StringComparison.Ordinal);
        Assert.Contains("'max_batch_size' must be >= 0", errors, StringComparison.Ordinal);
        Assert.Contains("input 'INPUT0' is configured as FP32 but the model declares INT32", errors, StringComparison.Ordinal);
        Assert.Contains("input 'NOPE' is not an input of the model", errors, StringComparison.Ordinal);
        Assert.Contains("instance count", errors, StringComparison.Ordinal);
        Assert.Contains("graph_optimization_level", errors, StringComparison.Ordinal);
        Assert.Contains("'tpu'", errors, StringComparison.Ordinal);
        Assert.True(definition.Errors.Count >= 7);
    }

    [Theory]
    [InlineData("""{ "backend": "tensorflow" }""", "backend 'tensorflow' is not supported; supported: onnxruntime")]
    [InlineData("""{ "backend": "python" }""", "backend 'python' is not supported; supported: onnxruntime")]
    [InlineData("""{ "backend": "custom" }""", "backend 'custom' is not supported; supported: onnxruntime")]
    [InlineData("""{ "platform": "tensorflow_savedmodel" }""", "platform 'tensorflow_savedmodel' is not supported; set 'backend' to one of: onnxruntime")]
    public void A_backend_nobody_registered_is_a_load_error_that_names_the_known_ones(string json, string expected)
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16), json);

        var definition = new ModelRepository(_files.Root).Read("simple", _backend);

        Assert.Null(definition.Config);
        Assert.Equal([expected], definition.Errors);
    }

    [Theory]
    [InlineData("""{ "max_batch_size": 8, "sequence_batching": { "iterative_sequence": true } }""", "'sequence_batching.iterative_sequence' is not supported")]
    [InlineData("""{ "model_transaction_policy": { "decoupled": true } }""", "'model_transaction_policy.decoupled' is not supported")]
    [InlineData("""{ "max_batch_size": 8, "batch_input": [ { "kind": "BATCH_ELEMENT_COUNT" } ] }""", "'batch_input' (ragged batching) is not supported")]
    [InlineData("""{ "input": [ { "name": "INPUT0", "allow_ragged_batch": true } ] }""", "'input[0].allow_ragged_batch' is not supported")]
    [InlineData("""{ "input": [ { "name": "INPUT0", "optional": true }, { "name": "INPUT1" } ] }""", "input 'INPUT0' is optional, which the 'onnxruntime' backend does not honour")]
    public void A_model_asking_for_what_Turbine_cannot_honour_fails_to_load_instead_of_serving_wrong_answers(string json, string expected)
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16), json);

        var definition = new ModelRepository(_files.Root).Read("simple", _backend);

        Assert.Null(definition.Config);
        Assert.Contains(definition.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("../simple/1/model.onnx")]
    [InlineData("/etc/passwd")]
    [InlineData("..")]
    public void A_default_model_filename_that_is_not_a_plain_file_name_is_refused(string file)
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16), $$"""{ "default_model_filename": "{{file}}" }""");

        var definition = new ModelRepository(_files.Root).Read("simple", _backend);

        Assert.Null(definition.Config);
        Assert.Contains(definition.Errors, e => e.StartsWith("'default_model_filename'", StringComparison.Ordinal) && e.EndsWith("must be a plain file name", StringComparison.Ordinal));
    }

    [Fact]
    public void A_gpu_instance_group_on_a_build_without_a_gpu_fails_the_load_with_the_reason()
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16), """{ "instance_group": [ { "kind": "KIND_CPU" }, { "count": 2, "kind": "KIND_GPU" } ] }""");

        var definition = new ModelRepository(_files.Root).Read("simple", _backend);

        Assert.False(new Turbine.Onnx.OnnxBackend().HasGpu); // the CPU package of ONNX Runtime, as the tests build it
        Assert.Null(definition.Config);
        Assert.Equal(
            ["instance_group[1] asks for KIND_GPU, but the 'onnxruntime' backend of this build has no GPU to run on; use KIND_CPU or KIND_AUTO, or build with -p:TurbineGpu=true for a CUDA device"],
            definition.Errors);
    }

    [Fact]
    public void The_onnxruntime_platform_selects_the_onnx_backend_and_its_section_is_read_by_it()
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16), """{ "platform": "onnxruntime_onnx", "onnxruntime": { "intra_op_threads": 3 } }""");

        var definition = new ModelRepository(_files.Root).Read("simple", _backend);

        Assert.Empty(definition.Errors);
        Assert.Equal("onnxruntime", definition.Config!.Backend);
        Assert.Equal(3, OnnxRuntimeSettings.Of(definition.Config).IntraOpThreads);
        Assert.Empty(definition.Unsupported!);
    }

    [Fact]
    public void The_monitoring_section_is_not_named_as_ignored()
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 16), """{ "monitoring": { "window_rows": 500 }, "nonsense": 1 }""");

        var definition = new ModelRepository(_files.Root).Read("simple", _backend);

        Assert.Empty(definition.Errors);
        Assert.Equal(["nonsense"], definition.Unsupported!);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{ "input": 5 }""")]
    [InlineData("""{ "max_batch_size": "many" }""")]
    [InlineData("""{ "input": [ { "name": "INPUT0", "data_type": "TYPE_COMPLEX" } ] }""")]
    public void Malformed_configs_are_reported_not_thrown(string json)
    {
        _files.Add("simple", SampleModels.AddSub(), json);

        var definition = new ModelRepository(_files.Root).Read("simple", _backend);

        Assert.Null(definition.Config);
        Assert.NotEmpty(definition.Errors);
    }

    [Fact]
    public void Deeply_nested_config_json_is_reported_not_a_stack_overflow()
    {
        _files.Add("simple", SampleModels.AddSub(), "{\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}");

        var definition = new ModelRepository(_files.Root).Read("simple", _backend);

        Assert.Contains(definition.Errors, e => e.Contains("not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public void Version_policy_selects_versions()
    {
        _files.Add("m", SampleModels.Identity(DataType.Fp32), version: 1).Add("m", SampleModels.Identity(DataType.Fp32), version: 2).Add("m", SampleModels.Identity(DataType.Fp32), version: 10);
        var repository = new ModelRepository(_files.Root);

        Assert.Equal([10L], repository.Read("m", _backend).Versions);
        File.WriteAllText(Path.Combine(_files.Root, "m", "config.json"), """{ "version_policy": { "all": {} } }""");
        Assert.Equal([1L, 2L, 10L], repository.Read("m", _backend).Versions);
        File.WriteAllText(Path.Combine(_files.Root, "m", "config.json"), """{ "version_policy": { "specific": { "versions": [2] } } }""");
        Assert.Equal([2L], repository.Read("m", _backend).Versions);
        File.WriteAllText(Path.Combine(_files.Root, "m", "config.json"), """{ "version_policy": { "latest": { "num_versions": 2 } } }""");
        Assert.Equal([2L, 10L], repository.Read("m", _backend).Versions);
    }

    [Fact]
    public void Folders_with_unsafe_names_and_non_numeric_versions_are_ignored()
    {
        _files.Add("good", SampleModels.Identity(DataType.Fp32));
        Directory.CreateDirectory(Path.Combine(_files.Root, ".hidden"));
        Directory.CreateDirectory(Path.Combine(_files.Root, "good", "latest"));
        Directory.CreateDirectory(Path.Combine(_files.Root, "good", "01"));
        var repository = new ModelRepository(_files.Root);

        Assert.Equal(["good"], repository.ListModels());
        Assert.Equal([1L], repository.Read("good", _backend).Versions);
        Assert.Throws<ArgumentException>(() => repository.Read("../good", _backend));
    }
}
