using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>Counts the process's threads, so it runs alone: tests running beside it would start threads of their own.</summary>
[CollectionDefinition(nameof(ThreadBudgetTests), DisableParallelization = true)]
public sealed class ThreadBudgetCollection;

/// <summary>ONNX Runtime's threads come from one budget for the process, not one pool per session.</summary>
[Collection(nameof(ThreadBudgetTests))]
public sealed class ThreadBudgetTests : IDisposable
{
    private readonly TestRepository _repository = new();
    private readonly OnnxBackend _backend = new();

    public void Dispose() => _repository.Dispose();

    [Fact]
    public void Sessions_share_the_process_thread_budget_and_a_model_with_threads_of_its_own_opts_out()
    {
        var folder = Path.Combine(_repository.Root, "budget", "1");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(path, SampleModels.Mlp(inputs: 64, hidden: 256, classes: 8));
        var signature = _backend.Inspect(path);
        var config = new ModelConfig
        {
            Name = "budget",
            Inputs = [.. signature.Inputs.Select(i => new TensorConfig(i.Name, i.DataType, i.Shape))],
            Outputs = [.. signature.Outputs.Select(o => new TensorConfig(o.Name, o.DataType, o.Shape))],
        };
        using var first = _backend.CreateInstance(path, config); // the environment and its pools exist from here on
        Assert.True(OnnxThreadBudget.IsShared);
        Assert.Equal(Environment.ProcessorCount, OnnxThreadBudget.IntraOpThreads);

        var before = ThreadCount();
        var shared = Enumerable.Range(0, 16).Select(_ => _backend.CreateInstance(path, config)).ToList();
        var startedShared = ThreadCount() - before;

        // Three intra-op threads: a pool of two more threads for each session.
        var own = config with { Settings = new OnnxRuntimeSettings { IntraOpThreads = 3 } };
        before = ThreadCount();
        var separate = Enumerable.Range(0, 16).Select(_ => _backend.CreateInstance(path, own)).ToList();
        var startedSeparate = ThreadCount() - before;

        foreach (var instance in shared.Concat(separate))
        {
            instance.Dispose();
        }

        Assert.True(startedShared < 8, $"16 sessions on the shared pools started {startedShared} threads");
        Assert.True(startedSeparate >= 32, $"16 sessions with pools of their own started only {startedSeparate} threads");
    }

    /// <summary>The process's native threads, as the kernel counts them (ONNX Runtime's pool threads are not .NET threads).</summary>
    private static int ThreadCount() => Directory.GetDirectories("/proc/self/task").Length;
}
