using System.Runtime.InteropServices;

namespace Turbine.Edge.Updates;

/// <summary>The few POSIX calls the agent needs that .NET does not offer: signals other than SIGKILL, and the user id.</summary>
public static partial class Posix
{
    /// <summary>SIGKILL: no handler runs, as when the power goes.</summary>
    public const int SigKill = 9;

    /// <summary>SIGTERM: a graceful stop.</summary>
    public const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when it is gone.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>
    /// Kills a process that is not this one's child and waits for it to end (a child's exit can be awaited; another's
    /// cannot): a pidfd becomes readable when the process exits, reaped or not. False when it was gone already.
    /// </summary>
    public static bool KillAndWait(int pid, TimeSpan timeout)
    {
        var descriptor = (int)PidfdOpen(PidfdOpenSyscall, pid, 0);
        if (descriptor < 0)
        {
            return false;
        }

        try
        {
            _ = Kill(pid, SigKill);
            var poll = new PollDescriptor { Descriptor = descriptor, Events = PollIn };
            _ = Poll(ref poll, 1, (int)timeout.TotalMilliseconds);
            return true;
        }
        finally
        {
            _ = CloseDescriptor(descriptor);
        }
    }

    /// <summary>Whether the effective user is root.</summary>
    public static bool IsRoot => OperatingSystem.IsLinux() && GetEffectiveUserId() == 0;

    private const long PidfdOpenSyscall = 434; // the same number on x86-64 and arm64
    private const short PollIn = 1;

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "syscall")]
    private static partial long PidfdOpen(long number, int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "poll")]
    private static partial int Poll(ref PollDescriptor descriptors, ulong count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseDescriptor(int descriptor);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}

/// <summary>
/// Fault injection for the update tests: when <c>TURBINE_EDGE_FAULT</c> names a point, the agent sends itself SIGKILL
/// there, which is what a power cut does to the process (the tests then start it again and check where the device
/// ends). Unset, every point is a no-op.
/// </summary>
public static class FaultPoints
{
    /// <summary>The environment variable that arms one point.</summary>
    public const string Variable = "TURBINE_EDGE_FAULT";

    private static readonly string? Armed = Environment.GetEnvironmentVariable(Variable);

    /// <summary>Dies here when this point is armed.</summary>
    public static void Reach(string point)
    {
        if (Armed == point)
        {
            Console.Error.WriteLine($"turbine-edge agent: fault injected, killed at '{point}'");
            Console.Error.Flush();
            Posix.Signal(Environment.ProcessId, Posix.SigKill);
        }
    }
}
