namespace Turbine.Protocols;

/// <summary>
/// Outputs a client asked to find in shared memory: each is written into its region before the answer goes out, and
/// the answer carries its place instead of its data (both protocols).
/// </summary>
public static class SharedMemoryOutputs
{
    /// <summary>
    /// Writes every output that <paramref name="requested"/> places in shared memory; <paramref name="places"/> (by
    /// response output) says which, null when none is.
    /// </summary>
    public static InferenceError? Place(InferenceResponse response, IReadOnlyList<RequestedOutput> requested, ISharedMemory? sharedMemory, out SharedMemoryRef?[]? places)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(requested);
        places = null;
        foreach (var output in requested)
        {
            if (output.SharedMemory is not { } place)
            {
                continue;
            }

            if (sharedMemory is null)
            {
                return InferenceError.Invalid("system shared memory is not enabled on this server (Turbine:SharedMemory:Enabled)");
            }

            var index = response.Outputs.FindIndex(o => o.Name == output.Name);
            if (index < 0)
            {
                continue;
            }

            var data = response.Outputs[index].Data.Span;
            if (data.Length > place.ByteSize)
            {
                return InferenceError.Invalid($"shared memory region '{ClientText.Quote(place.Region)}' holds {place.ByteSize} bytes for output '{output.Name}', which has {data.Length}");
            }

            if (sharedMemory.Write(place, data) is { } refused)
            {
                return refused;
            }

            places ??= new SharedMemoryRef?[response.Outputs.Count];
            places[index] = place with { ByteSize = data.Length };
        }

        return null;
    }

    /// <summary>The parameters an output placed in shared memory carries in the answer, as Triton writes them.</summary>
    public static Dictionary<string, object> ParametersOf(SharedMemoryRef place)
    {
        ArgumentNullException.ThrowIfNull(place);
        var parameters = new Dictionary<string, object>
        {
            [SharedMemoryParameters.Region] = place.Region,
            [SharedMemoryParameters.ByteSize] = place.ByteSize,
        };
        if (place.Offset != 0)
        {
            parameters[SharedMemoryParameters.Offset] = place.Offset;
        }

        return parameters;
    }
}
