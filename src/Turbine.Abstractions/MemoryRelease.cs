namespace Turbine;

/// <summary>
/// Gives back to the operating system what a pool just dropped. An idle server collects nothing by itself, and a
/// collection that frees memory keeps it committed for the next burst unless asked to give it back: without an
/// aggressive collection, RSS would stay at a burst's peak on every dashboard.
/// </summary>
public static class MemoryRelease
{
    /// <summary>Below this, a blocking compacting collection costs more than the memory it returns.</summary>
    public const long ThresholdBytes = 16L * 1024 * 1024;

    /// <summary>Collects aggressively and trims the C heap when a pool dropped at least <see cref="ThresholdBytes"/>.</summary>
    /// <returns>Whether it collected.</returns>
    public static bool AfterDropping(long droppedBytes)
    {
        if (droppedBytes < ThresholdBytes)
        {
            return false;
        }

        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeHeap.Trim();
        return true;
    }
}
