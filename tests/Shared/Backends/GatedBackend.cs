using System.Collections.Concurrent;
using Turbine.Onnx;
using Turbine.Tests;

namespace Turbine.Tests;

/// <summary>
/// The real ONNX backend behind a gate, so tests can let requests pile up and batch deterministically. It also
/// records what each run received and can charge each run a cost on the test's fake clock.
/// </summary>
internal sealed class GatedBackend : IModelBackend
{
    private readonly OnnxBackend _inner = new();

    public ManualResetEventSlim Gate { get; } = new(initialState: true);

    /// <summary>Released when a run starts, before it waits at the gate.</summary>
    public SemaphoreSlim Entered { get; } = new(0, int.MaxValue);

    /// <summary>Released when a run has finished.</summary>
    public SemaphoreSlim Exited { get; } = new(0, int.MaxValue);

    /// <summary>When set, only instances of these models wait at the gate (and <see cref="Holds"/> is not asked).</summary>
    public HashSet<string>? HeldModels { get; set; }

    /// <summary>Instances of these models throw from every run (a backend fault, SECURITY.md F6).</summary>
    public HashSet<string> ThrowingModels { get; } = [];

    /// <summary>Runs per model, counted as they start.</summary>
    public ConcurrentDictionary<string, int> RunsByModel { get; } = new();

    /// <summary>Whether instances hand out siblings (<see cref="IModelInstance.CreateSibling"/>), as the ONNX backend does; off unless a test asks.</summary>
    public bool Siblings { get; set; }

    /// <summary>Which runs wait at the gate; all of them when null.</summary>
    public Func<IReadOnlyList<Tensor>, bool>? Holds { get; set; }

    /// <summary>Called at each run with its batch rows, e.g. to move a fake clock as if the run took time.</summary>
    public Action<long>? Cost { get; set; }

    /// <summary>The INT32 inputs of each run, in the order the runs started.</summary>
    public ConcurrentQueue<int[]> Runs { get; } = new();

    /// <summary>The managed thread of each run, in the order the runs started.</summary>
    public ConcurrentQueue<int> RunThreads { get; } = new();

    public string Name => _inner.Name;

    public string DefaultModelFileName => _inner.DefaultModelFileName;

    public IReadOnlyList<string> Platforms => _inner.Platforms;

    public BackendSettings ReadSettings(System.Text.Json.JsonElement? section, List<string> errors) => _inner.ReadSettings(section, errors);

    public ModelSignature Inspect(string modelPath) => _inner.Inspect(modelPath);

    public IModelInstance CreateInstance(string modelPath, ModelConfig config) => new Instance(this, _inner.CreateInstance(modelPath, config), config.Name);

    private sealed class Instance(GatedBackend backend, IModelInstance inner, string model) : IModelInstance
    {
        public InferenceError? Run(IReadOnlyList<Tensor> inputs, IReadOnlyList<TensorConfig> outputs, List<Tensor> results)
        {
            if (inputs[0].DataType == DataType.Int32)
            {
                backend.Runs.Enqueue(inputs[0].ToArray<int>());
            }

            backend.RunThreads.Enqueue(Environment.CurrentManagedThreadId);
            backend.RunsByModel.AddOrUpdate(model, 1, (_, n) => n + 1);
            if (backend.ThrowingModels.Contains(model))
            {
                throw new InvalidOperationException("the backend failed");
            }

            backend.Entered.Release();
            if (backend.HeldModels is { } held ? held.Contains(model) : backend.Holds?.Invoke(inputs) ?? true)
            {
                backend.Gate.Wait(); // holds the worker (a synchronous model run) until the test opens the gate
            }

            backend.Cost?.Invoke(inputs[0].Shape.Length > 0 ? inputs[0].Shape[0] : 1);
            var error = inner.Run(inputs, outputs, results);
            backend.Exited.Release();
            return error;
        }

        public IModelInstance? CreateSibling() =>
            backend.Siblings && inner.CreateSibling() is { } sibling ? new Instance(backend, sibling, model) : null;

        public void Dispose() => inner.Dispose();
    }
}
