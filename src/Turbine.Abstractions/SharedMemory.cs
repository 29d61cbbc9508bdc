namespace Turbine;

/// <summary>
/// A tensor's place in a registered shared-memory region (Triton's shared-memory extension): the region's name, where
/// in the region it starts, and how many bytes it may take.
/// </summary>
public sealed record SharedMemoryRef(string Region, long Offset, long ByteSize);

/// <summary>
/// The shared-memory regions clients registered: inputs are copied out of them, outputs written into them. Every
/// access is checked against the region's registered size.
/// </summary>
public interface ISharedMemory
{
    /// <summary>Copies <see cref="SharedMemoryRef.ByteSize"/> bytes of the region into a fresh tensor buffer.</summary>
    InferenceError? Read(SharedMemoryRef place, out TensorBuffer? data);

    /// <summary>Writes <paramref name="data"/> at the place, which must hold it.</summary>
    InferenceError? Write(SharedMemoryRef place, ReadOnlySpan<byte> data);
}
