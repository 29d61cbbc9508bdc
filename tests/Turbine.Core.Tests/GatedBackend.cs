using Turbine.Onnx;

namespace Turbine.Core.Tests;

/// <summary>The real ONNX backend behind a gate, so tests can let requests pile up and batch deterministically.</summary>
internal sealed class GatedBackend : IModelBackend
{
    private readonly OnnxBackend _inner = new();

    public ManualResetEventSlim Gate { get; } = new(initialState: true);

    public SemaphoreSlim Entered { get; } = new(0, int.MaxValue);

    public string Name => _inner.Name;

    public string DefaultModelFileName => _inner.DefaultModelFileName;

    public ModelSignature Inspect(string modelPath) => _inner.Inspect(modelPath);

    public IModelInstance CreateInstance(string modelPath, ModelConfig config) => new Instance(this, _inner.CreateInstance(modelPath, config));

    private sealed class Instance(GatedBackend backend, IModelInstance inner) : IModelInstance
    {
        public InferenceError? Run(IReadOnlyList<Tensor> inputs, IReadOnlyList<TensorConfig> outputs, List<Tensor> results)
        {
            backend.Entered.Release();
            backend.Gate.Wait(); // holds the worker (a synchronous model run) until the test opens the gate
            return inner.Run(inputs, outputs, results);
        }

        public void Dispose() => inner.Dispose();
    }
}
