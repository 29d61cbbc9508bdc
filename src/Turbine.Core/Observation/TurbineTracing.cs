using System.Diagnostics;

namespace Turbine.Core.Observation;

/// <summary>
/// Turbine's spans, on one <see cref="ActivitySource"/> named <see cref="SourceName"/>: <c>turbine.infer</c> around a
/// request at its protocol's entry (a child of the caller's W3C <c>traceparent</c>), with <c>turbine.decode</c> and
/// <c>turbine.encode</c>, <c>turbine.route</c> and <c>turbine.pipeline.step</c> for traffic management, and
/// <c>turbine.queue</c> (waiting) and <c>turbine.execute</c> (the batch run, its rows and requests as tags) from the
/// model's worker. Nothing is recorded unless a listener (OpenTelemetry, when tracing is enabled) samples it.
/// </summary>
public static class TurbineTracing
{
    /// <summary>The name of Turbine's activity source, for <c>AddSource</c>.</summary>
    public const string SourceName = "Turbine";

    /// <summary>The source every Turbine span starts from.</summary>
    public static ActivitySource Source { get; } = new(SourceName, typeof(TurbineTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Whether anyone records Turbine's spans: callers skip even reading trace headers when not.</summary>
    public static bool IsEnabled => Source.HasListeners();

    /// <summary>
    /// Starts <c>turbine.infer</c> for a request of <paramref name="model"/>: a child of the caller's
    /// <c>traceparent</c>/<c>tracestate</c> when it sent one, else of the activity already running, if any. The header
    /// wins over the host's own request activity, which is there whether or not anyone exports it: a span nobody
    /// exports must never stand between the caller and Turbine.
    /// </summary>
    public static Activity? StartInfer(string model, string protocol, string? traceparent, string? tracestate)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        if (traceparent is null || !ActivityContext.TryParse(traceparent, tracestate, isRemote: true, out var parent))
        {
            parent = Activity.Current?.Context ?? default;
        }

        var activity = Source.StartActivity("turbine.infer", ActivityKind.Server, parent);
        activity?.SetTag("turbine.model", model);
        activity?.SetTag("rpc.system", protocol);
        return activity;
    }

    /// <summary>Starts a child span of the current activity, when tracing is on and the request is sampled.</summary>
    public static Activity? StartStep(string name) => Activity.Current is null ? null : Source.StartActivity(name, ActivityKind.Internal);

    /// <summary>Records a span that already happened, under <paramref name="parent"/> (a request's context, carried to a worker thread).</summary>
    public static void Record(string name, ActivityContext parent, DateTimeOffset start, DateTimeOffset end, ReadOnlySpan<KeyValuePair<string, object?>> tags = default)
    {
        if (parent == default)
        {
            return;
        }

        using var activity = Source.StartActivity(name, ActivityKind.Internal, parent, startTime: start);
        if (activity is null)
        {
            return;
        }

        foreach (var (key, value) in tags)
        {
            activity.SetTag(key, value);
        }

        activity.SetEndTime(end.UtcDateTime);
    }
}
