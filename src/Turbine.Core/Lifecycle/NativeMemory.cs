namespace Turbine.Core.Lifecycle;

/// <summary>
/// Gives freed memory back to the operating system after a model is released. ONNX Runtime frees a session's weights
/// and arenas on dispose, but glibc keeps freed pages in its heaps (<see cref="NativeHeap"/>), and the model file was
/// parsed into large managed arrays that only a full collection frees.
/// </summary>
internal static class NativeMemory
{
    /// <summary>After a model is released: starts a background (non-blocking) full collection, then trims the native heaps.</summary>
    public static void Release()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: false);
        NativeHeap.Trim();
    }
}
