using Turbine.Onnx.Tools;

namespace Turbine.Core.Tests;

/// <summary>
/// A cheap model's inline runs take sibling instances when its instances are busy, so callers run side by side on
/// their own threads up to the inline-run budget, instead of queueing behind the one worker.
/// </summary>
public sealed class SiblingInstanceTests : IAsyncLifetime
{
    private readonly GatedModels _gated = new();

    public async Task InitializeAsync()
    {
        // Two runs at once whatever the machine (every core but one by default: none to spare on a 2-core machine).
        // Process-wide, so other tests' ONNX models may get a sibling too, which they tolerate as before.
        AppContext.SetData("Turbine.MaxInlineRuns", 2);
        _gated.Backend.Siblings = true;
        _gated.Files.Add("cheap", SampleModels.Identity(DataType.Int32), """{ "max_batch_size": 0 }""");
        await _gated.LoadAsync();
    }

    public async Task DisposeAsync() => await _gated.DisposeAsync();

    [Fact]
    public async Task A_second_caller_runs_beside_the_first_on_a_sibling_instead_of_queueing()
    {
        for (var i = 0; i < 4; i++)
        {
            await InferAsync(i); // teaches the runner the model is cheap
        }

        var first = await _gated.HoldWorkerAsync(() => InferAsync(1)); // inline on the one instance, held in its run
        var second = Task.Run(() => InferAsync(2));

        // The second run starts while the first still holds the instance (a queued one would wait for the gate).
        Assert.True(await _gated.Backend.Entered.WaitAsync(TimeSpan.FromSeconds(10)), "the second caller queued behind the first");
        Assert.Equal(0, Info().QueuedRequests);
        _gated.Backend.Gate.Set();
        Assert.Equal(new[] { 1 }, await first);
        Assert.Equal(new[] { 2 }, await second);
        Assert.Equal(6, _gated.Statistics("cheap").Success.Count);
    }

    private ModelVersionInfo Info()
    {
        Assert.Null(_gated.Inference.Statistics("cheap", null, out var info));
        return info[0];
    }

    private async Task<int[]> InferAsync(int value)
    {
        using var request = new InferenceRequest { ModelName = "cheap" };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 1], [value]));
        var result = await _gated.Inference.InferAsync(request, CancellationToken.None);
        using var response = result.Response;
        Assert.Null(result.Error);
        return response!.Outputs[0].ToArray<int>();
    }
}
