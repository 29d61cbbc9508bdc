using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Turbine.Core.Tests;

/// <summary>
/// A backend whose instances take as much native memory as their model file's size and give it back on dispose, so
/// that tests see what a model's load costs and what its eviction returns. Loads can be held (a slow load), runs of
/// chosen models can be held (requests in flight), and every run echoes INPUT0 to OUTPUT0.
/// </summary>
internal sealed class PagedBackend : IModelBackend
{
    private long _liveBytes;

    /// <summary>Closed: instance creation waits (a load that takes as long as the test wants).</summary>
    public ManualResetEventSlim LoadGate { get; } = new(initialState: true);

    /// <summary>Closed: runs of <see cref="HeldModels"/> wait.</summary>
    public ManualResetEventSlim RunGate { get; } = new(initialState: true);

    /// <summary>Released when a run of a held model has started.</summary>
    public SemaphoreSlim Entered { get; } = new(0, int.MaxValue);

    /// <summary>Released when an instance creation has started (before it waits at <see cref="LoadGate"/>).</summary>
    public SemaphoreSlim Loading { get; } = new(0, int.MaxValue);

    /// <summary>The models whose runs wait at <see cref="RunGate"/>.</summary>
    public ConcurrentDictionary<string, bool> HeldModels { get; } = new();

    /// <summary>Instances created, by model.</summary>
    public ConcurrentDictionary<string, int> Creations { get; } = new();

    /// <summary>Native bytes held by live instances.</summary>
    public long LiveBytes => Interlocked.Read(ref _liveBytes);

    public string Name => "onnxruntime";

    public string DefaultModelFileName => "model.onnx";

    public ModelSignature Inspect(string modelPath) =>
        new([new TensorSignature("INPUT0", DataType.Fp32, [-1, 2])], [new TensorSignature("OUTPUT0", DataType.Fp32, [-1, 2])]);

    public IModelInstance CreateInstance(string modelPath, ModelConfig config)
    {
        Loading.Release();
        LoadGate.Wait(); // a synchronous load that takes as long as the test wants: blocking is the point
        Creations.AddOrUpdate(config.Name, 1, static (_, count) => count + 1);
        return new Instance(this, config.Name, new FileInfo(modelPath).Length);
    }

    private sealed class Instance : IModelInstance
    {
        private readonly PagedBackend _backend;
        private readonly string _model;
        private readonly long _bytes;
        private nint _memory;

        public Instance(PagedBackend backend, string model, long bytes)
        {
            (_backend, _model, _bytes) = (backend, model, bytes);
            _memory = Marshal.AllocHGlobal((nint)bytes);
            Interlocked.Add(ref backend._liveBytes, bytes);
        }

        public InferenceError? Run(IReadOnlyList<Tensor> inputs, IReadOnlyList<TensorConfig> outputs, List<Tensor> results)
        {
            if (_backend.HeldModels.ContainsKey(_model))
            {
                _backend.Entered.Release();
                _backend.RunGate.Wait();
            }

            results.Add(new Tensor("OUTPUT0", DataType.Fp32, inputs[0].Shape, TensorBuffer.CopyOf(inputs[0].Data.Span)));
            return null;
        }

        public void Dispose()
        {
            var memory = Interlocked.Exchange(ref _memory, 0);
            if (memory != 0)
            {
                Marshal.FreeHGlobal(memory);
                Interlocked.Add(ref _backend._liveBytes, -_bytes);
            }
        }
    }
}
