using System.Diagnostics;

namespace Turbine.Server.Metrics;

/// <summary>The process's CPU and memory, under the names every Prometheus client library uses, plus the .NET GC heap.</summary>
internal static class ProcessMetrics
{
    public static void Write(PrometheusTextWriter writer)
    {
        using var process = Process.GetCurrentProcess();
        Single(writer, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", process.TotalProcessorTime.TotalSeconds);
        Single(writer, "process_resident_memory_bytes", "gauge", "Resident memory size, in bytes.", process.WorkingSet64);
        Single(writer, "process_virtual_memory_bytes", "gauge", "Virtual memory size, in bytes.", process.VirtualMemorySize64);
        Single(writer, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.",
            new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0);
        Single(writer, "process_threads", "gauge", "Operating-system threads of the process.", process.Threads.Count);
        Single(writer, "dotnet_gc_heap_bytes", "gauge", "Bytes the .NET garbage collector believes are allocated.", GC.GetTotalMemory(forceFullCollection: false));
        Single(writer, "dotnet_gc_available_memory_bytes", "gauge", "Memory the .NET runtime may use on this machine or container, in bytes.",
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }

    private static void Single(PrometheusTextWriter writer, string name, string type, string help, double value)
    {
        writer.Family(name, type, help);
        writer.Sample(name, [], value);
    }
}
