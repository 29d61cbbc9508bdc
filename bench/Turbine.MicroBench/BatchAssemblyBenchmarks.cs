using BenchmarkDotNet.Attributes;
using Turbine.Core.Execution;
using Turbine.Core.Execution.Scheduling;

namespace Turbine.MicroBench;

/// <summary>
/// The dynamic batcher's copies: gathering the rows of queued requests into one contiguous input, and slicing the
/// batched output back per request. Request validation, which runs once per request before it is queued, is measured too.
/// </summary>
#pragma warning disable CA1001 // BenchmarkDotNet owns the lifetime: [GlobalCleanup] disposes the runner
public class BatchAssemblyBenchmarks
#pragma warning restore CA1001
{
    private const int Features = 1024;
    private readonly List<WorkItem> _batch = [];
    private readonly List<Tensor> _outputs = [];
    private List<Tensor>[] _perRequest = [];
    private ModelConfig _config = null!;
    private ModelVersionRunner _runner = null!;
    private InferenceRequest _single = null!;

    /// <summary>Requests (of one row each) in the batch.</summary>
    [Params(8, 32)]
    public int Requests { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _config = new ModelConfig
        {
            Name = "mlp",
            MaxBatchSize = 32,
            Inputs = [new TensorConfig("x", DataType.Fp32, [Features])],
            Outputs = [new TensorConfig("y", DataType.Fp32, [Features])],
        };
        _runner = new ModelVersionRunner(_config, 1, [], TimeProvider.System); // no instances: nothing runs, only the types are needed
        _single = Payloads.Request(Features);
        for (var k = 0; k < Requests; k++)
        {
            var request = Payloads.Request(Features);
            InferenceRequestValidator.Validate(_config, request, out var validated);
            _batch.Add(new WorkItem(request, validated!, 0, CancellationToken.None) { Runner = _runner });
        }

        _outputs.Add(Tensor.FromArray<float>("y", [Requests, Features], new float[Requests * Features]));
        _perRequest = [.. Enumerable.Range(0, Requests).Select(_ => new List<Tensor>())];
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (var item in _batch)
        {
            item.Request.Dispose();
        }

        _outputs[0].Dispose();
        _single.Dispose();
        await _runner.DisposeAsync();
    }

    [Benchmark]
    public long Validate()
    {
        InferenceRequestValidator.Validate(_config, _single, out var validated);
        return validated!.BatchSize;
    }

    [Benchmark]
    public int Concatenate()
    {
        var inputs = BatchAssembler.Concatenate(_batch, Requests);
        var length = inputs[0].Data.Length;
        inputs[0].Dispose();
        return length;
    }

    [Benchmark]
    public int Split()
    {
        BatchAssembler.Split(_outputs, _batch, Requests, _perRequest);
        var count = 0;
        foreach (var tensors in _perRequest)
        {
            count += tensors.Count;
            tensors[0].Dispose();
            tensors.Clear();
        }

        return count;
    }
}
