namespace Turbine.Client;

/// <summary>The server's metadata.</summary>
/// <param name="Name">Server name.</param>
/// <param name="Version">Server version.</param>
/// <param name="Extensions">Protocol extensions supported.</param>
public sealed record ServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);

/// <summary>A tensor as model metadata describes it.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DataType">Element type.</param>
/// <param name="Shape">Full shape, -1 where dynamic.</param>
public sealed record TensorMetadata(string Name, DataType DataType, long[] Shape);

/// <summary>A model's metadata.</summary>
/// <param name="Name">Model name.</param>
/// <param name="Versions">Ready versions.</param>
/// <param name="Platform">Platform, e.g. onnxruntime_onnx.</param>
/// <param name="Inputs">Inputs.</param>
/// <param name="Outputs">Outputs.</param>
public sealed record ModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<TensorMetadata> Inputs, IReadOnlyList<TensorMetadata> Outputs);

/// <summary>One line of the repository index.</summary>
/// <param name="Name">Model name.</param>
/// <param name="Version">Version, if any.</param>
/// <param name="State">READY, UNAVAILABLE, LOADING or UNLOADING.</param>
/// <param name="Reason">Why it is not ready.</param>
public sealed record RepositoryModel(string Name, string? Version, string State, string Reason);

/// <summary>Inference statistics of one model version.</summary>
/// <param name="Name">Model name.</param>
/// <param name="Version">Version.</param>
/// <param name="InferenceCount">Inferences (a batch of N counts N).</param>
/// <param name="ExecutionCount">Executions.</param>
/// <param name="SuccessCount">Successful requests.</param>
/// <param name="SuccessNanoseconds">Total time of successful requests.</param>
/// <param name="FailCount">Failed requests.</param>
/// <param name="QueueNanoseconds">Total queue time.</param>
/// <param name="ComputeInferNanoseconds">Total model execution time.</param>
public sealed record ModelStatisticsSummary(
    string Name, string Version, long InferenceCount, long ExecutionCount, long SuccessCount, long SuccessNanoseconds, long FailCount, long QueueNanoseconds, long ComputeInferNanoseconds);
