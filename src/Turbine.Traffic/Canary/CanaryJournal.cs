using System.Buffers;
using System.Text.Json;
using Turbine.Core.Lifecycle;

namespace Turbine.Traffic.Canary;

/// <summary>
/// Where a rollout keeps what must outlive the process: the audit log (<c>&lt;folder&gt;/&lt;route&gt;.audit.jsonl</c>,
/// one JSON object per decision, appended and flushed to disk before the decision takes effect) and its progress
/// (<c>&lt;route&gt;.state.json</c>, written atomically), so that a restarted server resumes at the same step.
/// </summary>
internal sealed class CanaryJournal(string folder, string route)
{
    private string AuditPath => Path.Combine(folder, route + ".audit.jsonl");

    private string ProgressPath => Path.Combine(folder, route + ".state.json");

    public void Append(CanaryDecision decision)
    {
        Directory.CreateDirectory(folder);
        var line = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(line))
        {
            CanaryJson.WriteDecision(writer, route, decision);
        }

        using var stream = new FileStream(AuditPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(line.WrittenSpan);
        stream.WriteByte((byte)'\n');
        stream.Flush(flushToDisk: true);
    }

    public void Save(CanaryState state, int step) => AtomicFile.WriteJson(ProgressPath, writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("state", CanaryJson.StateName(state));
        writer.WriteNumber("step", step);
        writer.WriteEndObject();
    });

    /// <summary>The saved progress, or null when there is none or it cannot be read (the rollout then starts over).</summary>
    public (CanaryState State, int Step)? Load()
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(ProgressPath));
            var root = document.RootElement;
            return Enum.TryParse<CanaryState>(root.GetProperty("state").GetString()!.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var state)
                ? (state, root.GetProperty("step").GetInt32())
                : null;
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or NullReferenceException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Forgets the progress (the route was set again or deleted); the audit log stays.</summary>
    public void Forget() => File.Delete(ProgressPath);
}
