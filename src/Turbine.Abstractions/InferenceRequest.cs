namespace Turbine;

/// <summary>An output the client asked for, and how it wants it.</summary>
/// <param name="Name">The model output's name.</param>
/// <param name="BinaryData">Whether to return it in the binary tensor extension (REST only).</param>
/// <param name="ClassCount">
/// The classification extension: when above 0, the output comes back as its top <paramref name="ClassCount"/> classes,
/// BYTES of <c>"value:index[:label]"</c>, instead of its values.
/// </param>
/// <param name="SharedMemory">Where in a registered shared-memory region the output goes instead of the response.</param>
public sealed record RequestedOutput(string Name, bool BinaryData = false, int ClassCount = 0, SharedMemoryRef? SharedMemory = null);

/// <summary>One inference request, decoded from any protocol. Owns its input tensors.</summary>
public sealed class InferenceRequest : IDisposable
{
    /// <summary>The target model.</summary>
    public required string ModelName { get; init; }

    /// <summary>The target version; null or empty selects by the model's version policy (the latest ready).</summary>
    public string? ModelVersion { get; init; }

    /// <summary>The client's request id, echoed in the response.</summary>
    public string? Id { get; set; }

    /// <summary>The input tensors.</summary>
    public List<Tensor> Inputs { get; } = [];

    /// <summary>The requested outputs; empty means all of the model's outputs.</summary>
    public List<RequestedOutput> Outputs { get; } = [];

    /// <summary>Request parameters (values are string, long, double or bool).</summary>
    public Dictionary<string, object>? Parameters { get; set; }

    /// <summary>Whether outputs not listed in <see cref="Outputs"/> should default to the binary extension.</summary>
    public bool BinaryDataOutputByDefault { get; set; }

    /// <summary>
    /// The value of the header a route names as its <c>sticky_header</c>, set by the transport (an HTTP header or gRPC
    /// metadata); the route hashes it to keep a caller in one variant. Not sent to models.
    /// </summary>
    public string? RoutingKey { get; set; }

    /// <summary>
    /// Which lane of the model's queue the request waits in: online (the default) or background, for bulk work such
    /// as batch jobs that must never delay online traffic. Set by in-process callers, or by the request parameter
    /// <c>turbine_lane</c> = <c>"background"</c>.
    /// </summary>
    public RequestLane Lane { get; set; }

    /// <summary>Releases the input tensors.</summary>
    public void Dispose()
    {
        foreach (var input in Inputs)
        {
            input.Dispose();
        }

        Inputs.Clear();
    }
}
