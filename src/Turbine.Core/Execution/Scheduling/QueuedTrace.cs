using System.Diagnostics;

namespace Turbine.Core.Execution.Scheduling;

/// <summary>
/// The trace a queued request belongs to, captured as it is queued: the span it was queued under and the wall-clock
/// time, so that the worker can record its queue and execute spans under it. Default when nobody records spans.
/// </summary>
/// <param name="Parent">The span the request was queued under.</param>
/// <param name="QueuedAt">When it was queued.</param>
internal readonly record struct QueuedTrace(ActivityContext Parent, DateTimeOffset QueuedAt)
{
    /// <summary>Whether the request is traced.</summary>
    public bool IsTraced => Parent != default;
}
