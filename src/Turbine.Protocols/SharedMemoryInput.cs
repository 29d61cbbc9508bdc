using Turbine.Protocols.KServe;

namespace Turbine.Protocols;

/// <summary>An input placed in shared memory, copied out once its size is known to fit the tensor (both protocols).</summary>
internal static class SharedMemoryInput
{
    public static InferenceError? Read(ISharedMemory? sharedMemory, SharedMemoryRef place, string name, DataType type, long count, KServeLimits limits, out TensorBuffer? buffer)
    {
        buffer = null;
        if (sharedMemory is null)
        {
            return InferenceError.Invalid("system shared memory is not enabled on this server (Turbine:SharedMemory:Enabled)");
        }

        if (place.ByteSize > limits.MaxTensorBytes)
        {
            return InferenceError.Invalid($"input '{name}' is {place.ByteSize} bytes; the limit is {limits.MaxTensorBytes}");
        }

        if (type != DataType.Bytes && (!Shapes.TryGetByteSize(count, type, limits.MaxTensorBytes, out var expected) || expected != place.ByteSize))
        {
            return InferenceError.Invalid($"unexpected total byte size {place.ByteSize} for input '{name}', expecting {count * type.ElementSize()}");
        }

        return sharedMemory.Read(place, out buffer);
    }
}
