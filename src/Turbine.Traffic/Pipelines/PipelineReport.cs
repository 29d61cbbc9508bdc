using System.Text.Json;

namespace Turbine.Traffic.Pipelines;

/// <summary>A pipeline's statistics as JSON: whole requests, then each step's executions and time, cascade stages and switch cases.</summary>
public static class PipelineReport
{
    public static void Write(Utf8JsonWriter writer, CompiledPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(pipeline);
        var statistics = pipeline.Statistics;
        writer.WriteStartObject();
        writer.WriteString("name", pipeline.Definition.Name);
        WriteDuration(writer, "success", statistics.Success);
        WriteDuration(writer, "fail", statistics.Fail);
        writer.WriteStartArray("steps");
        foreach (var step in pipeline.Definition.Steps)
        {
            var figures = statistics.Steps[step.Name];
            writer.WriteStartObject();
            writer.WriteString("name", step.Name);
            writer.WriteString("kind", step.Kind);
            WriteDuration(writer, "success", figures.Success);
            WriteDuration(writer, "fail", figures.Fail);
            if (step is CascadeStep cascade)
            {
                writer.WriteStartArray("stages");
                for (var i = 0; i < cascade.Stages.Count; i++)
                {
                    writer.WriteStartObject();
                    writer.WriteString("model", cascade.Stages[i].Target.ToString());
                    writer.WriteNumber("answered", figures.AnsweredByStage(i));
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteNumber("escalated_share", figures.EscalatedShare);
            }

            if (step is SwitchStep)
            {
                writer.WriteStartObject("cases");
                foreach (var (value, count) in figures.Cases.OrderBy(c => c.Key, StringComparer.Ordinal))
                {
                    writer.WriteNumber(value, count);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Count and total nanoseconds, as Triton's statistics write a duration.</summary>
    private static void WriteDuration(Utf8JsonWriter writer, string name, DurationCounter counter)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("count", counter.Count);
        writer.WriteNumber("ns", counter.Nanoseconds);
        writer.WriteEndObject();
    }
}
