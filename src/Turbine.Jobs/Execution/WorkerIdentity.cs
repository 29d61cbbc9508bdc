using System.Diagnostics;

namespace Turbine.Jobs.Execution;

/// <summary>
/// Names a worker as <c>host:pid:nonce</c>, so a worker starting on the same machine can tell that another one is gone
/// (its process no longer runs) and take its partitions back at once instead of waiting for its leases to run out.
/// </summary>
public static class WorkerIdentity
{
    /// <summary>A fresh name for a worker in this process.</summary>
    public static string New() => $"{Environment.MachineName}:{Environment.ProcessId}:{Random.Shared.Next(0x1000000):x6}";

    /// <summary>Whether <paramref name="owner"/> names a worker of this machine whose process has exited.</summary>
    public static bool IsDeadLocal(string owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var parts = owner.Split(':');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid))
        {
            return false;
        }

        if (pid == Environment.ProcessId)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
    }
}
