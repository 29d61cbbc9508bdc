namespace Turbine.Core.Tests;

/// <summary>
/// A backend whose instances echo INPUT0 to OUTPUT0, can be held at a gate (to fill queues deterministically)
/// and can be told to throw. Its "model file" is a one-line signature; no ONNX involved.
/// </summary>
internal sealed class FakeBackend : IModelBackend
{
    public ManualResetEventSlim Gate { get; } = new(initialState: true);

    public SemaphoreSlim Entered { get; } = new(0, int.MaxValue);

    public bool Throw { get; set; }

    /// <summary>A batch of this many rows gets a null output: a misbehaving backend that makes the runner itself fault after the call.</summary>
    public long NullOutputWhenRows { get; set; } = -1;

    public string Name => "onnxruntime";

    public string DefaultModelFileName => "model.onnx";

    public ModelSignature Inspect(string modelPath) =>
        new([new TensorSignature("INPUT0", DataType.Fp32, [-1, 2])], [new TensorSignature("OUTPUT0", DataType.Fp32, [-1, 2])]);

    public IModelInstance CreateInstance(string modelPath, ModelConfig config) => new Instance(this);

    /// <summary>Holds every run at the gate until <see cref="Release"/>.</summary>
    public void Hold() => Gate.Reset();

    public void Release() => Gate.Set();

    private sealed class Instance(FakeBackend backend) : IModelInstance
    {
        public InferenceError? Run(IReadOnlyList<Tensor> inputs, IReadOnlyList<TensorConfig> outputs, List<Tensor> results)
        {
            backend.Entered.Release();
            backend.Gate.Wait(); // a synchronous model run that takes as long as the test wants: blocking is the point
            if (backend.Throw)
            {
                throw new InvalidOperationException("backend fault");
            }

            results.Add(inputs[0].Shape[0] == backend.NullOutputWhenRows ? null! : new Tensor("OUTPUT0", DataType.Fp32, inputs[0].Shape, TensorBuffer.CopyOf(inputs[0].Data.Span)));
            return null;
        }

        public void Dispose()
        {
        }
    }
}
