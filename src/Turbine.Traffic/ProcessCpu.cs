namespace Turbine.Traffic;

/// <summary>
/// How busy this process keeps the machine's cores, sampled every 250 ms: the share (0 to 1) of all cores' time the
/// process used over the last sample. Shadows read it to step aside when the node is saturated. The sampler starts
/// with the first reader.
/// </summary>
public static class ProcessCpu
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);
    private static readonly Lazy<Timer> Sampler = new(() => new Timer(_ => Sample(), null, Period, Period));
    private static TimeSpan _lastCpu = Environment.CpuUsage.TotalTime;
    private static long _lastTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
    private static double _utilization;

    /// <summary>The process's share of all cores over the last 250 ms.</summary>
    public static double Utilization
    {
        get
        {
            _ = Sampler.Value;
            return Volatile.Read(ref _utilization);
        }
    }

    private static void Sample()
    {
        var cpu = Environment.CpuUsage.TotalTime;
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        var wall = System.Diagnostics.Stopwatch.GetElapsedTime(_lastTimestamp, now);
        if (wall > TimeSpan.Zero)
        {
            Volatile.Write(ref _utilization, Math.Clamp((cpu - _lastCpu) / (wall * Environment.ProcessorCount), 0, 1));
        }

        (_lastCpu, _lastTimestamp) = (cpu, now);
    }
}
