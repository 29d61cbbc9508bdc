using System.Runtime.InteropServices;

namespace Turbine;

/// <summary>
/// Gives the C library's free heap pages back to the operating system. glibc keeps what native code (ONNX Runtime,
/// gRPC's native parts) freed in its heaps, so without a trim the process's RSS stays at its high-water mark after a
/// model unload or a burst of large requests and looks like a leak on every dashboard.
/// </summary>
public static class NativeHeap
{
    private static bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>Trims glibc's heaps; a no-op elsewhere (other systems and C libraries return memory on their own terms).</summary>
    public static void Trim()
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
