using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace Turbine.Onnx.Tools.Evaluation;

/// <summary>What one session cost in memory, measured in a process of its own.</summary>
/// <param name="BatchSize">Rows per run.</param>
/// <param name="CpuMemArena">The session's <c>enable_cpu_mem_arena</c>.</param>
/// <param name="MemPattern">The session's <c>enable_mem_pattern</c>.</param>
/// <param name="PeakBytes">The process's resident memory at its highest, above where it stood before the session.</param>
/// <param name="RetainedBytes">What stayed resident after the runs, above the same baseline.</param>
public sealed record SessionMemory(int BatchSize, bool CpuMemArena, bool MemPattern, long PeakBytes, long RetainedBytes);

/// <summary>
/// Measures the peak working memory of one session as the server creates it (its settings through the same factory),
/// loading the model and running batches of one size, from Linux's resident-set figures: the high-water mark is reset
/// (<c>/proc/self/clear_refs</c>) once the runtime is up, so the peak is the session's alone. It must run in a fresh
/// process per measurement: memory freed by one session and reused by the next would hide the second one's cost.
/// </summary>
public static class SessionMemoryProbe
{
    /// <summary>Whether this system can measure (Linux, with <c>/proc/self/clear_refs</c> writable).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    /// <summary>Loads <paramref name="modelPath"/> with the given arena settings, runs three batches, and measures.</summary>
    /// <exception cref="PlatformNotSupportedException">Not on Linux.</exception>
    public static SessionMemory Measure(string modelPath, int batchSize, bool cpuMemArena, bool memPattern)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("session memory is measured from Linux's /proc/self figures");
        }

        OnnxThreadBudget.EnsureEnvironment();
        var signature = new OnnxBackend().Inspect(modelPath);
        using var inputs = SampleSet.Random(signature, batchSize).Batch(batchSize);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5"); // resets the peak (VmHWM) to the present resident size
        var baseline = Status("VmRSS");
        var settings = new OnnxRuntimeSettings { EnableCpuMemArena = cpuMemArena, EnableMemPattern = memPattern, IntraOpThreads = 1 };
        using (var session = OnnxSessionFactory.Create(modelPath, settings))
        using (var runOptions = new RunOptions())
        {
            for (var run = 0; run < 3; run++)
            {
                using var outputs = session.Run(runOptions, inputs.Names, inputs.Values, [.. session.OutputNames]);
            }

            var retained = Status("VmRSS") - baseline;
            return new SessionMemory(batchSize, cpuMemArena, memPattern, Math.Max(Status("VmHWM") - baseline, retained), retained);
        }
    }

    /// <summary>A figure of <c>/proc/self/status</c>, in bytes.</summary>
    private static long Status(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        var kilobytes = line[(field.Length + 1)..].Trim().Split(' ')[0];
        return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
    }
}
