using System.Runtime.InteropServices;

namespace Turbine.Core.Lifecycle;

/// <summary>
/// Gives freed native memory back to the operating system after a model is released. ONNX Runtime frees a session's
/// weights and arenas on dispose, but glibc keeps freed pages in its heaps, so without a trim the process's RSS stays
/// at its high-water mark after an unload and looks like a leak on every dashboard.
/// </summary>
internal static class NativeMemory
{
    private static bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>
    /// After a model is released: starts a background (non-blocking) full collection, because loading parsed the model
    /// file into large managed arrays that only a gen-2 collection frees, then trims the native heaps.
    /// </summary>
    public static void Release()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: false);
        Trim();
    }

    /// <summary>Trims glibc's heaps; a no-op elsewhere (other systems and C libraries return memory on their own terms).</summary>
    private static void Trim()
    {
        if (_unavailable)
        {
            return;
        }

        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true; // musl (Alpine) has no malloc_trim
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
}
