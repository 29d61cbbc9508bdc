namespace Turbine.Core.Lifecycle;

/// <summary>
/// Gives freed memory back to the operating system after a model is released. ONNX Runtime frees a session's weights
/// and arenas on dispose, but glibc keeps freed pages in its heaps (<see cref="NativeHeap"/>), and the model file was
/// parsed into large managed arrays that only a full collection frees. At most one release runs per interval: a pager
/// that evicts hundreds of models a second would otherwise force hundreds of full collections a second; releases
/// asked for meanwhile are served by one at the end of the interval.
/// </summary>
internal static class NativeMemory
{
    private const long IntervalMilliseconds = 250;

    private static long _lastRelease = -IntervalMilliseconds;
    private static int _deferred;

    /// <summary>After a model is released: starts a background (non-blocking) full collection and trims the native heaps, now or at the end of the interval.</summary>
    public static void Release()
    {
        var wait = Volatile.Read(ref _lastRelease) + IntervalMilliseconds - Environment.TickCount64;
        if (wait <= 0)
        {
            ReleaseNow();
        }
        else if (Interlocked.Exchange(ref _deferred, 1) == 0)
        {
            _ = Task.Delay(TimeSpan.FromMilliseconds(wait)).ContinueWith(
                static _ =>
                {
                    Volatile.Write(ref _deferred, 0);
                    ReleaseNow();
                },
                CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
    }

    private static void ReleaseNow()
    {
        Volatile.Write(ref _lastRelease, Environment.TickCount64);
        GC.Collect(2, GCCollectionMode.Forced, blocking: false);
        NativeHeap.Trim();
    }
}
