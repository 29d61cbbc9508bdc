using System.Text.Json;

namespace Turbine.Traffic.Canary;

/// <summary>How rollouts appear as JSON: the status the API and CLI show, and the decisions of the audit log.</summary>
public static class CanaryJson
{
    /// <summary>The whole status of a rollout: where it stands, its plan, the current step's figures and its last decisions.</summary>
    public static void WriteStatus(Utf8JsonWriter writer, CanaryRollout rollout)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(rollout);
        writer.WriteStartObject();
        writer.WriteString("route", rollout.Route);
        writer.WriteString("state", StateName(rollout.State));
        writer.WriteNumber("step", rollout.Step + 1);
        writer.WriteNumber("steps", rollout.Plan.Steps.Count);
        writer.WriteNumber("canary_percent", rollout.CanaryPercent);
        writer.WritePropertyName("figures");
        WriteFigures(writer, rollout.Figures());
        writer.WriteStartArray("decisions");
        foreach (var decision in rollout.History)
        {
            WriteDecision(writer, rollout.Route, decision);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static string StateName(CanaryState state) => state switch
    {
        CanaryState.Running => "running",
        CanaryState.Paused => "paused",
        CanaryState.Promoted => "promoted",
        _ => "rolled_back",
    };

    /// <summary>Reads a state's name as <see cref="StateName"/> writes it.</summary>
    public static bool TryParseState(string? name, out CanaryState state)
    {
        (var known, state) = name switch
        {
            "running" => (true, CanaryState.Running),
            "paused" => (true, CanaryState.Paused),
            "promoted" => (true, CanaryState.Promoted),
            "rolled_back" => (true, CanaryState.RolledBack),
            _ => (false, CanaryState.Running),
        };
        return known;
    }

    /// <summary>Reads a decision as <see cref="WriteDecision"/> writes it.</summary>
    /// <exception cref="KeyNotFoundException">A property is missing.</exception>
    public static CanaryDecision ReadDecision(JsonElement element)
    {
        var figures = element.GetProperty("figures");
        return new CanaryDecision(
            element.GetProperty("time").GetDateTimeOffset(), element.GetProperty("action").GetString()!, element.GetProperty("actor").GetString()!,
            element.GetProperty("from_percent").GetDouble(), element.GetProperty("to_percent").GetDouble(), element.GetProperty("reason").GetString()!,
            new CanaryFigures(
                figures.GetProperty("requests").GetInt64(), figures.GetProperty("errors").GetInt64(), figures.GetProperty("p99_ms").GetDouble(),
                figures.GetProperty("compared").GetInt64(), figures.GetProperty("disagreed").GetInt64(), figures.GetProperty("step_seconds").GetDouble(),
                figures.GetProperty("baseline_requests").GetInt64(), figures.GetProperty("baseline_errors").GetInt64()));
    }

    public static void WriteDecision(Utf8JsonWriter writer, string route, CanaryDecision decision)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(decision);
        writer.WriteStartObject();
        writer.WriteString("time", decision.Time);
        writer.WriteString("route", route);
        writer.WriteString("action", decision.Action);
        writer.WriteString("actor", decision.Actor);
        writer.WriteNumber("from_percent", decision.FromPercent);
        writer.WriteNumber("to_percent", decision.ToPercent);
        writer.WriteString("reason", decision.Reason);
        writer.WritePropertyName("figures");
        WriteFigures(writer, decision.Figures);
        writer.WriteEndObject();
    }

    public static void WriteFigures(Utf8JsonWriter writer, CanaryFigures figures)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(figures);
        writer.WriteStartObject();
        writer.WriteNumber("requests", figures.Requests);
        writer.WriteNumber("errors", figures.Errors);
        writer.WriteNumber("error_rate", figures.ErrorRate);
        writer.WriteNumber("p99_ms", figures.P99Milliseconds);
        writer.WriteNumber("compared", figures.Compared);
        writer.WriteNumber("disagreed", figures.Disagreed);
        writer.WriteNumber("disagreement", figures.Disagreement);
        writer.WriteNumber("step_seconds", figures.StepSeconds);
        writer.WriteNumber("baseline_requests", figures.BaselineRequests);
        writer.WriteNumber("baseline_errors", figures.BaselineErrors);
        writer.WriteEndObject();
    }
}
