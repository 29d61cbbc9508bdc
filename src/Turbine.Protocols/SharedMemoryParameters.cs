namespace Turbine.Protocols;

/// <summary>
/// The shared-memory extension's tensor parameters, read the same way by both protocols: <c>shared_memory_region</c>
/// (a string), <c>shared_memory_byte_size</c> (required with it) and <c>shared_memory_offset</c> (default 0).
/// </summary>
internal static class SharedMemoryParameters
{
    public const string Region = "shared_memory_region";
    public const string Offset = "shared_memory_offset";
    public const string ByteSize = "shared_memory_byte_size";

    /// <summary>The tensor's place in shared memory, null when it names none; an error when the parameters are malformed.</summary>
    public static InferenceError? Read(IReadOnlyDictionary<string, object>? parameters, string? tensor, out SharedMemoryRef? place)
    {
        place = null;
        if (parameters is null || !parameters.TryGetValue(Region, out var region))
        {
            return parameters is not null && (parameters.ContainsKey(Offset) || parameters.ContainsKey(ByteSize))
                ? Malformed(tensor, $"'{Offset}' and '{ByteSize}' need '{Region}'")
                : null;
        }

        if (region is not string { Length: > 0 } name)
        {
            return Malformed(tensor, $"'{Region}' must be a region's name");
        }

        if (!TryReadSize(parameters, ByteSize, required: true, out var byteSize) || !TryReadSize(parameters, Offset, required: false, out var offset))
        {
            return Malformed(tensor, $"'{ByteSize}' (required) and '{Offset}' must be non-negative integers");
        }

        place = new SharedMemoryRef(name, offset, byteSize);
        return null;
    }

    private static bool TryReadSize(IReadOnlyDictionary<string, object> parameters, string name, bool required, out long value)
    {
        value = 0;
        if (!parameters.TryGetValue(name, out var raw))
        {
            return !required;
        }

        switch (raw)
        {
            case long signed when signed >= 0:
                value = signed;
                return true;
            case ulong unsigned when unsigned <= long.MaxValue:
                value = (long)unsigned;
                return true;
            default:
                return false;
        }
    }

    private static InferenceError Malformed(string? tensor, string why) =>
        InferenceError.Invalid($"tensor '{ClientText.Quote(tensor ?? string.Empty)}': {why}");
}
