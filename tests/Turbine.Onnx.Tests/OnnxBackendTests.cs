using System.Runtime.InteropServices;
using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

public sealed class OnnxBackendTests : IDisposable
{
    private readonly TestRepository _repository = new();
    private readonly OnnxBackend _backend = new();

    public void Dispose() => _repository.Dispose();

    public static TheoryData<DataType> AllTypes()
    {
        var data = new TheoryData<DataType>();
        foreach (var type in DataTypes.All)
        {
            data.Add(type);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Identity_model_returns_its_input_unchanged_for_every_datatype(DataType type)
    {
        var path = Write("identity", SampleModels.Identity(type));
        var config = Config(path, "identity");
        using var instance = _backend.CreateInstance(path, config);
        using var input = SampleTensor("INPUT0", type, 2, 3);
        var results = new List<Tensor>();

        var error = instance.Run([input], config.Outputs, results);

        Assert.Null(error);
        using var output = Assert.Single(results);
        Assert.Equal("OUTPUT0", output.Name);
        Assert.Equal(type, output.DataType);
        Assert.Equal([2L, 3L], output.Shape);
        Assert.Equal(input.Data.Span.ToArray(), output.Data.Span.ToArray());
    }

    [Fact]
    public void A_runtime_failure_reaches_the_client_as_a_plain_message_and_the_runtime_text_stays_in_the_detail()
    {
        var model = new OnnxModelBuilder("broadcast")
            .Input("A", DataType.Fp32, -1)
            .Input("B", DataType.Fp32, -1)
            .Node("Add", ["A", "B"], ["C"])
            .Output("C", DataType.Fp32, -1)
            .ToBytes();
        var path = Write("broadcast", model);
        var config = Config(path, "broadcast");
        using var instance = _backend.CreateInstance(path, config);
        using var a = Tensor.FromArray<float>("A", [3], [1, 2, 3]);
        using var b = Tensor.FromArray<float>("B", [4], [1, 2, 3, 4]); // cannot broadcast against A: the run fails inside ONNX Runtime

        var error = instance.Run([a, b], config.Outputs, []);

        Assert.Equal(StatusCode.Internal, error!.Code);
        Assert.Equal("model execution failed", error.Message);
        Assert.Contains("broadcast", error.Detail, StringComparison.OrdinalIgnoreCase); // ONNX Runtime's words, for the log only
    }

    [Fact]
    public void Inspect_reads_names_types_and_dynamic_dimensions()
    {
        var signature = _backend.Inspect(Write("simple", SampleModels.AddSub(DataType.Int32, 16)));

        Assert.Equal(["INPUT0", "INPUT1"], signature.Inputs.Select(i => i.Name));
        Assert.All(signature.Inputs, i => Assert.Equal(DataType.Int32, i.DataType));
        Assert.Equal([-1L, 16L], signature.Inputs[0].Shape);
        Assert.Equal(["OUTPUT0", "OUTPUT1"], signature.Outputs.Select(o => o.Name));
    }

    [Fact]
    public void Add_sub_model_computes_sum_and_difference()
    {
        var path = Write("simple", SampleModels.AddSub(DataType.Int32, 4));
        var config = Config(path, "simple");
        using var instance = _backend.CreateInstance(path, config);
        using var a = Tensor.FromArray<int>("INPUT0", [1, 4], [1, 2, 3, 4]);
        using var b = Tensor.FromArray<int>("INPUT1", [1, 4], [10, 20, 30, 40]);
        var results = new List<Tensor>();

        Assert.Null(instance.Run([a, b], config.Outputs, results));

        Assert.Equal([11, 22, 33, 44], results[0].ToArray<int>());
        Assert.Equal([-9, -18, -27, -36], results[1].ToArray<int>());
        results.ForEach(r => r.Dispose());
    }

    [Fact]
    public void Mlp_outputs_probabilities_that_sum_to_one_and_the_argmax_label()
    {
        var path = Write("mlp", SampleModels.Mlp(inputs: 4, hidden: 8, classes: 3));
        var config = Config(path, "mlp");
        using var instance = _backend.CreateInstance(path, config);
        using var features = Tensor.FromArray<float>("features", [2, 4], [5.1f, 3.5f, 1.4f, 0.2f, -1f, 2f, -3f, 4f]);
        var results = new List<Tensor>();

        Assert.Null(instance.Run([features], config.Outputs, results));

        var probabilities = results[0].ToArray<float>();
        var labels = results[1].ToArray<long>();
        Assert.Equal([2L, 3L], results[0].Shape);
        for (var row = 0; row < 2; row++)
        {
            var slice = probabilities.AsSpan(row * 3, 3).ToArray();
            Assert.Equal(1f, slice.Sum(), 4);
            Assert.Equal(Array.IndexOf(slice, slice.Max()), labels[row]);
        }

        results.ForEach(r => r.Dispose());
    }

    [Fact]
    public void Requested_output_subset_returns_only_that_output()
    {
        var path = Write("simple", SampleModels.AddSub(DataType.Fp32, 2));
        var config = Config(path, "simple");
        using var instance = _backend.CreateInstance(path, config);
        using var a = Tensor.FromArray<float>("INPUT0", [1, 2], [1, 2]);
        using var b = Tensor.FromArray<float>("INPUT1", [1, 2], [3, 5]);
        var results = new List<Tensor>();

        Assert.Null(instance.Run([a, b], [config.Outputs[1]], results));

        using var only = Assert.Single(results);
        Assert.Equal("OUTPUT1", only.Name);
        Assert.Equal([-2f, -3f], only.ToArray<float>());
    }

    [Fact]
    public void ResNet18_from_its_package_runs_a_batch_after_making_dimension_zero_dynamic()
    {
        var model = OnnxModelEditor.Read(Path.Combine(AppContext.BaseDirectory, "demo", "ResNet18.onnx"));
        Assert.True(OnnxModelEditor.MakeDimensionDynamic(model) >= 2);
        var path = Path.Combine(_repository.Root, "resnet18.onnx");
        OnnxModelEditor.Write(model, path);
        var signature = _backend.Inspect(path);
        Assert.Equal([-1L, 3, 224, 224], signature.Inputs[0].Shape);
        var config = Config(path, "resnet18");
        using var instance = _backend.CreateInstance(path, config);

        var pixels = new float[2 * 3 * 224 * 224];
        var random = new Random(7);
        for (var i = 0; i < pixels.Length / 2; i++)
        {
            pixels[i] = (float)random.NextDouble(); // image 0: noise; image 1: all zeros
        }

        using var input = Tensor.FromArray<float>(signature.Inputs[0].Name, [2, 3, 224, 224], pixels);
        var results = new List<Tensor>();
        Assert.Null(instance.Run([input], config.Outputs, results));

        using var features = Assert.Single(results);
        Assert.Equal([2L, 512, 1, 1], features.Shape);
        var values = features.ToArray<float>();
        Assert.NotEqual(values.AsSpan(0, 512).ToArray(), values.AsSpan(512, 512).ToArray());
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7 })]
    [InlineData(new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    [InlineData(new byte[0])]
    public void Corrupt_model_file_is_refused_with_a_clear_reason(byte[] content)
    {
        var path = Write("corrupt", content);

        var error = Assert.Throws<InferenceException>(() => _backend.Inspect(path));

        Assert.Contains("not a valid ONNX model", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_repository.Root, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_model_file_is_refused()
    {
        var bytes = SampleModels.Mlp();
        var path = Write("truncated", bytes[..(bytes.Length / 2)]);

        Assert.Throws<InferenceException>(() => _backend.Inspect(path));
    }

    [Fact]
    public void Unavailable_execution_provider_fails_with_a_clear_error()
    {
        var path = Write("identity", SampleModels.Identity(DataType.Fp32));
        var config = Config(path, "identity") with { Settings = new OnnxRuntimeSettings { ExecutionProviders = ["cuda", "cpu"] } };

        var error = Assert.Throws<InferenceException>(() => _backend.CreateInstance(path, config));

        Assert.Contains("execution provider 'cuda' is not available", error.Message, StringComparison.Ordinal);
        Assert.Contains("-p:TurbineGpu=true", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Xnnpack_is_refused_by_a_build_without_it_naming_what_the_build_has()
    {
        // The Linux NuGet package has the CPU provider only (docs/EDGE.md measured it); the provider name still parses.
        var path = Write("identity", SampleModels.Identity(DataType.Fp32));
        var errors = new List<string>();
        var settings = OnnxRuntimeSettings.Read(System.Text.Json.JsonDocument.Parse("""{ "execution_providers": ["xnnpack", "cpu"] }""").RootElement, errors);
        Assert.Empty(errors);
        var config = Config(path, "identity") with { Settings = settings };

        var error = Assert.Throws<InferenceException>(() => _backend.CreateInstance(path, config));

        Assert.Contains("execution provider 'xnnpack' is not available in this build (available: CPUExecutionProvider)", error.Message, StringComparison.Ordinal);
        Assert.Contains("--use_xnnpack", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1, 8, 0)] // one instance: ONNX Runtime decides
    [InlineData(0, 2, 8, 4)] // the cores shared out
    [InlineData(0, 4, 2, 1)] // never below one
    [InlineData(3, 4, 8, 3)] // an explicit setting wins
    public void Several_instances_share_the_cores_instead_of_oversubscribing(int configured, int instances, int cores, int expected)
    {
        var config = new ModelConfig { Name = "m", InstanceCount = instances, Settings = new OnnxRuntimeSettings { IntraOpThreads = configured } };

        Assert.Equal(expected, OnnxBackend.IntraOpThreads(config, cores));
    }

    private string Write(string name, byte[] bytes)
    {
        var folder = Path.Combine(_repository.Root, name, "1");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private ModelConfig Config(string path, string name)
    {
        var signature = _backend.Inspect(path);
        return new ModelConfig
        {
            Name = name,
            MaxBatchSize = 0,
            Inputs = signature.Inputs.Select(i => new TensorConfig(i.Name, i.DataType, i.Shape)).ToList(),
            Outputs = signature.Outputs.Select(o => new TensorConfig(o.Name, o.DataType, o.Shape)).ToList(),
        };
    }

    internal static Tensor SampleTensor(string name, DataType type, int rows, int columns)
    {
        var count = rows * columns;
        if (type == DataType.Bytes)
        {
            return Tensor.FromStrings(name, [rows, columns], Enumerable.Range(0, count).Select(i => $"s{i}-é").ToArray());
        }

        var bytes = new byte[count * type.ElementSize()];
        for (var i = 0; i < count; i++)
        {
            var element = bytes.AsSpan(i * type.ElementSize(), type.ElementSize());
            switch (type)
            {
                case DataType.Bool: element[0] = (byte)(i % 2); break;
                case DataType.Fp16: MemoryMarshal.Write(element, (Half)(i * 0.5f)); break;
                case DataType.Bf16: MemoryMarshal.Write(element, BFloat16Bits.FromSingle(i * 0.25f)); break;
                case DataType.Fp32: MemoryMarshal.Write(element, i * 1.5f); break;
                case DataType.Fp64: MemoryMarshal.Write(element, i * -2.5); break;
                default: element[0] = (byte)(i + 1); break;
            }
        }

        return new Tensor(name, type, [rows, columns], TensorBuffer.CopyOf(bytes));
    }
}
