namespace Turbine.Jobs;

/// <summary>Where a job stands. Succeeded, failed and cancelled are final, except that a failed job may be resumed.</summary>
public enum JobState
{
    /// <summary>Submitted; no worker has looked at it yet.</summary>
    Queued,

    /// <summary>A worker checks the model, the input and the mapping, and cuts the input into partitions.</summary>
    Validating,

    /// <summary>Workers lease partitions and score them.</summary>
    Running,

    /// <summary>No new partition is leased; those running finish.</summary>
    Paused,

    /// <summary>Every partition is written and the summary is in the output folder.</summary>
    Succeeded,

    /// <summary>Stopped for the reason given; parts already written stay, and a resume goes on from them.</summary>
    Failed,

    /// <summary>Stopped on request; parts already written stay.</summary>
    Cancelled,
}

/// <summary>State names as the API and the store spell them.</summary>
public static class JobStates
{
    /// <summary>The lower-case name of <paramref name="state"/>.</summary>
    public static string Name(this JobState state) => state switch
    {
        JobState.Queued => "queued",
        JobState.Validating => "validating",
        JobState.Running => "running",
        JobState.Paused => "paused",
        JobState.Succeeded => "succeeded",
        JobState.Failed => "failed",
        _ => "cancelled",
    };

    /// <summary>Reads a name written by <see cref="Name"/>.</summary>
    public static JobState Parse(string name) => name switch
    {
        "queued" => JobState.Queued,
        "validating" => JobState.Validating,
        "running" => JobState.Running,
        "paused" => JobState.Paused,
        "succeeded" => JobState.Succeeded,
        "failed" => JobState.Failed,
        "cancelled" => JobState.Cancelled,
        _ => throw new FormatException($"unknown job state '{name}'"),
    };

    /// <summary>Whether no worker will touch a job in <paramref name="state"/> again (unless a failed one is resumed).</summary>
    public static bool IsFinal(this JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
}
