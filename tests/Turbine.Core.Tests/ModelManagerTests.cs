using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Core.Tests;

public sealed class ModelManagerTests : IAsyncLifetime
{
    private readonly TestRepository _files = new();
    private ModelManager _models = null!;
    private ModelExecutor _inference = null!;

    public async Task InitializeAsync()
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""")
              .Add("strings", SampleModels.Identity(DataType.Bytes, -1))
              .Add("corrupt", [1, 2, 3, 4, 5]);
        _models = new ModelManager(new ModelRepository(_files.Root), BackendRegistry.Of(new OnnxBackend()), new FakeTimeProvider(), NullLogger<ModelManager>.Instance);
        _inference = new ModelExecutor(_models);
        await _models.LoadAllAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _models.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task A_corrupt_model_is_unavailable_with_its_reason_while_the_others_serve()
    {
        var index = _models.Index(readyOnly: false);

        var corrupt = Assert.Single(index, e => e.Name == "corrupt");
        Assert.Equal(ModelState.Unavailable, corrupt.State);
        Assert.Contains("not a valid ONNX model", corrupt.Reason, StringComparison.Ordinal);
        Assert.Equal(ModelState.Ready, Assert.Single(index, e => e.Name == "simple").State);
        using var result = await InferSimpleAsync();
        Assert.Equal([11, 22, 33, 44], result.Outputs[0].ToArray<int>());
        Assert.Equal(["simple", "strings"], _models.Index(readyOnly: true).Select(e => e.Name));
    }

    [Fact]
    public async Task Unknown_model_and_version_errors_use_tritons_wording()
    {
        Assert.Equal(new InferenceError(StatusCode.NotFound, "Request for unknown model: 'nope' is not found"), await ErrorAsync("nope", null));
        Assert.Equal(new InferenceError(StatusCode.NotFound, "Request for unknown model: 'simple' version 7 is not found"), await ErrorAsync("simple", "7"));
        Assert.Equal(new InferenceError(StatusCode.NotFound, "Request for unknown model: 'simple' version x is not found"), await ErrorAsync("simple", "x"));
        Assert.Equal(new InferenceError(StatusCode.Unavailable, "Request for unknown model: 'corrupt' has no available versions"), await ErrorAsync("corrupt", null));
    }

    [Fact]
    public async Task Unload_then_load_takes_the_model_out_and_back()
    {
        Assert.Null(await _models.UnloadAsync("simple", CancellationToken.None));
        Assert.Equal(StatusCode.Unavailable, (await ErrorAsync("simple", null))!.Code);
        Assert.Equal("unloaded", Assert.Single(_models.Index(false), e => e.Name == "simple").Reason);

        Assert.Null(await _models.LoadAsync("simple", CancellationToken.None));
        using var result = await InferSimpleAsync();
        Assert.Equal("1", result.ModelVersion);
    }

    [Fact]
    public async Task Loading_a_model_that_is_not_in_the_repository_is_not_found()
    {
        var error = await _models.LoadAsync("missing", CancellationToken.None);
        Assert.Equal(StatusCode.NotFound, error!.Code);
        Assert.Equal(StatusCode.InvalidArgument, (await _models.LoadAsync("../simple", CancellationToken.None))!.Code);
    }

    [Fact]
    public async Task Load_of_a_corrupt_model_fails_with_the_reason()
    {
        var error = await _models.LoadAsync("corrupt", CancellationToken.None);
        Assert.Contains("failed to load 'corrupt'", error!.Message, StringComparison.Ordinal);
        Assert.Contains("not a valid ONNX model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_with_a_new_version_switches_to_it_and_keeps_serving()
    {
        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 4), version: 2);

        Assert.Null(await _models.LoadAsync("simple", CancellationToken.None));

        using var result = await InferSimpleAsync();
        Assert.Equal("2", result.ModelVersion);
    }

    public static TheoryData<string, string> InvalidRequests() => new()
    {
        { "datatype", "inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'" },
        { "shape", "unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,4], got [1,3]" },
        { "rank", "unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,4], got [4]" },
        { "batch", "inference request batch-size must be <= 8 for 'simple', got 9" },
        { "missing", "expected 2 inputs but got 1 inputs for model 'simple'; missing input(s) 'INPUT1'" },
        { "unknown", "unexpected inference input 'INPUT9' for model 'simple'" },
        { "duplicate", "input 'INPUT0' appears more than once in the request for model 'simple'" },
        { "bytesize", "unexpected total byte size 12 for input 'INPUT0', expecting 16" },
        { "output", "unexpected inference output 'OUTPUT7' for model 'simple'" },
        { "outputs-twice", "output 'OUTPUT0' already requested" },
        { "too-many-outputs", "the request asks for 3 outputs but model 'simple' has 2" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Invalid_requests_are_refused_with_a_precise_message(string variant, string message)
    {
        using var request = new InferenceRequest { ModelName = "simple" };
        var a = Tensor.FromArray<int>("INPUT0", [1, 4], [1, 2, 3, 4]);
        var b = Tensor.FromArray<int>("INPUT1", [1, 4], [1, 2, 3, 4]);
        switch (variant)
        {
            case "datatype": a = Tensor.FromArray<float>("INPUT0", [1, 4], [1, 2, 3, 4]); break;
            case "shape": a = Tensor.FromArray<int>("INPUT0", [1, 3], [1, 2, 3]); break;
            case "rank": a = Tensor.FromArray<int>("INPUT0", [4], [1, 2, 3, 4]); break;
            case "batch": a = Tensor.FromArray<int>("INPUT0", [9, 4], new int[36]); break;
            case "missing": b = null!; break;
            case "unknown": b = Tensor.FromArray<int>("INPUT9", [1, 4], [1, 2, 3, 4]); break;
            case "duplicate": b = Tensor.FromArray<int>("INPUT0", [1, 4], [1, 2, 3, 4]); break;
            case "bytesize": a = new Tensor("INPUT0", DataType.Int32, [1, 4], TensorBuffer.CopyOf(new byte[12])); break;
            case "output": request.Outputs.Add(new RequestedOutput("OUTPUT7")); break;
            case "outputs-twice": request.Outputs.AddRange([new RequestedOutput("OUTPUT0"), new RequestedOutput("OUTPUT0")]); break;
            case "too-many-outputs": request.Outputs.AddRange([new("OUTPUT0"), new("OUTPUT1"), new("OUTPUT0")]); break;
        }

        request.Inputs.Add(a);
        if (b is not null)
        {
            request.Inputs.Add(b);
        }

        var result = await _inference.InferAsync(request, CancellationToken.None);

        Assert.Equal(new InferenceError(StatusCode.InvalidArgument, message), result.Error);
    }

    [Fact]
    public async Task Malformed_bytes_elements_are_refused()
    {
        using var request = new InferenceRequest { ModelName = "strings" };
        var bytes = new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 1, 2 }; // an element that claims 4 GiB
        request.Inputs.Add(new Tensor("INPUT0", DataType.Bytes, [1], TensorBuffer.CopyOf(bytes)));

        var result = await _inference.InferAsync(request, CancellationToken.None);

        Assert.Equal(StatusCode.InvalidArgument, result.Error!.Code);
        Assert.Contains("claims", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Statistics_count_successes_failures_and_executions()
    {
        using (await InferSimpleAsync())
        using (await InferSimpleAsync())
        {
        }

        using var bad = new InferenceRequest { ModelName = "simple" };
        bad.Inputs.Add(Tensor.FromArray<float>("INPUT0", [1, 4], [1, 2, 3, 4]));
        await _inference.InferAsync(bad, CancellationToken.None);

        Assert.Null(_inference.Statistics("simple", null, out var stats));
        var simple = Assert.Single(stats);
        Assert.Equal(2, simple.Statistics.Success.Count);
        Assert.Equal(1, simple.Statistics.Fail.Count);
        Assert.Equal(2, simple.Statistics.ExecutionCount);
        Assert.Equal(2, simple.Statistics.InferenceCount);
        Assert.Equal(2, simple.Statistics.Batches[1].ComputeInfer.Count);
    }

    private async Task<InferenceResponse> InferSimpleAsync()
    {
        using var request = new InferenceRequest { ModelName = "simple" };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 4], [1, 2, 3, 4]));
        request.Inputs.Add(Tensor.FromArray<int>("INPUT1", [1, 4], [10, 20, 30, 40]));
        var result = await _inference.InferAsync(request, CancellationToken.None);
        Assert.Null(result.Error);
        return result.Response!;
    }

    private async Task<InferenceError?> ErrorAsync(string model, string? version)
    {
        using var request = new InferenceRequest { ModelName = model, ModelVersion = version };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 4], [1, 2, 3, 4]));
        return (await _inference.InferAsync(request, CancellationToken.None)).Error;
    }
}
