using Microsoft.ML.OnnxRuntime;

namespace Turbine.Onnx.Tools.Evaluation;

/// <summary>
/// A model file opened for measurement: one session with the server's optimization level and threads that do not
/// spin, so that models measured in turn do not steal each other's cores.
/// </summary>
public sealed class ModelUnderTest : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    /// <summary>Opens <paramref name="path"/>.</summary>
    /// <exception cref="InferenceException">ONNX Runtime cannot load the model.</exception>
    public ModelUnderTest(string name, string path)
    {
        Name = name;
        Path = path;
        FileBytes = new FileInfo(path).Length;
        OnnxThreadBudget.EnsureEnvironment();
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            _session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InferenceException($"{name}: ONNX Runtime cannot load the model: {e.Message}");
        }

        OutputNames = [.. _session.OutputNames];
    }

    /// <summary>What the report calls it.</summary>
    public string Name { get; }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>The model file's size (the passes write no external data).</summary>
    public long FileBytes { get; }

    /// <summary>The outputs every run fetches.</summary>
    public string[] OutputNames { get; }

    /// <summary>Runs one batch and returns the outputs (the caller disposes them).</summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(SampleBatch batch) => _session.Run(_runOptions, batch.Names, batch.Values, OutputNames);

    /// <inheritdoc />
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
