using System.Runtime.InteropServices;
using Turbine.Core.Execution;
using Turbine.Jobs.Execution;

namespace Turbine.Jobs.Tests;

/// <summary>
/// A model for job tests that needs no runtime: <c>scale</c> takes <c>x</c> (FP32, [-1, 3]) and answers <c>y</c> = 2x
/// and <c>total</c> = the row's sum (FP64). A request holding a row whose first value is 666 is refused (400), as a
/// model refuses bad input; <see cref="Fault"/> fails requests by their number, as an overloaded server does.
/// </summary>
internal sealed class FakeInference : IJobInference
{
    public const string Model = "scale";

    private int _requests;

    public ModelConfig Config { get; init; } = new()
    {
        Name = Model,
        MaxBatchSize = 8,
        Inputs = [new TensorConfig("x", DataType.Fp32, [3])],
        Outputs = [new TensorConfig("y", DataType.Fp32, [3]), new TensorConfig("total", DataType.Fp64, [])],
    };

    /// <summary>The error for request number n (from 1), or null to answer it.</summary>
    public Func<int, InferenceError?> Fault { get; init; } = _ => null;

    /// <summary>Called as each request arrives, before it is answered (a test may hold it).</summary>
    public Func<InferenceRequest, CancellationToken, Task>? OnRequest { get; init; }

    public int Requests => Volatile.Read(ref _requests);

    public List<long> BatchSizes { get; } = [];

    public InferenceError? Describe(string model, string? version, out ModelVersionInfo? info)
    {
        info = model == Model ? new ModelVersionInfo(Config, "1", ["1"], new ModelStatistics()) : null;
        return info is null ? InferenceError.NotFound($"unknown model '{model}'") : null;
    }

    public async ValueTask<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var number = Interlocked.Increment(ref _requests);
        if (OnRequest is { } hook)
        {
            await hook(request, cancellationToken);
        }

        if (Fault(number) is { } fault)
        {
            return InferenceResult.Failed(fault);
        }

        var x = request.Inputs.Single(i => i.Name == "x");
        var values = MemoryMarshal.Cast<byte, float>(x.Data.Span).ToArray();
        var rows = (int)x.Shape[0];
        lock (BatchSizes)
        {
            BatchSizes.Add(rows);
        }

        for (var r = 0; r < rows; r++)
        {
            if (values[r * 3] == 666)
            {
                return InferenceResult.Failed(InferenceError.Invalid("x holds the poison value 666"));
            }
        }

        var response = new InferenceResponse { ModelName = Model, ModelVersion = "1" };
        var wanted = request.Outputs.Count == 0 ? null : request.Outputs.Select(o => o.Name).ToHashSet();
        if (wanted is null || wanted.Contains("y"))
        {
            response.Outputs.Add(Tensor.FromArray<float>("y", [rows, 3], values.Select(v => v * 2).ToArray()));
        }

        if (wanted is null || wanted.Contains("total"))
        {
            var totals = new double[rows];
            for (var r = 0; r < rows; r++)
            {
                totals[r] = values[r * 3] + values[(r * 3) + 1] + values[(r * 3) + 2];
            }

            response.Outputs.Add(Tensor.FromArray<double>("total", [rows], totals));
        }

        return new InferenceResult(response, null);
    }
}
