using System.Text.Json;
using Turbine.Core.Lifecycle;

namespace Turbine.Traffic;

/// <summary>
/// Keeps a route's A/B figures on disk (<c>&lt;folder&gt;/&lt;route&gt;.json</c>, written atomically): the requests
/// each arm served and each arm's feedback sums, so that an experiment that runs for days survives restarts. The
/// checkpoint names the route's variants; one that no longer matches them is ignored.
/// </summary>
internal sealed class ExperimentStore(string folder, string route)
{
    private string FilePath => Path.Combine(folder, route + ".json");

    public void Save(IReadOnlyList<RouteVariant> variants, IReadOnlyList<long> served, IReadOnlyList<ArmState> arms) => AtomicFile.WriteJson(FilePath, writer =>
    {
        writer.WriteStartObject();
        writer.WriteStartArray("arms");
        for (var i = 0; i < variants.Count; i++)
        {
            writer.WriteStartObject();
            writer.WriteString("variant", variants[i].Name);
            writer.WriteNumber("served", served[i]);
            writer.WriteNumber("trials", arms[i].Trials);
            writer.WriteNumber("successes", arms[i].Successes);
            writer.WriteNumber("count", arms[i].Count);
            writer.WriteNumber("mean", arms[i].Mean);
            writer.WriteNumber("squares", arms[i].Squares);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    });

    /// <summary>The saved figures, when there are some for exactly these variants; null otherwise (the experiment starts afresh).</summary>
    public (long[] Served, ArmState[] Arms)? Load(IReadOnlyList<RouteVariant> variants)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(FilePath));
            var arms = document.RootElement.GetProperty("arms");
            if (arms.GetArrayLength() != variants.Count)
            {
                return null;
            }

            var served = new long[variants.Count];
            var states = new ArmState[variants.Count];
            var i = 0;
            foreach (var arm in arms.EnumerateArray())
            {
                if (arm.GetProperty("variant").GetString() != variants[i].Name)
                {
                    return null;
                }

                served[i] = arm.GetProperty("served").GetInt64();
                states[i++] = new ArmState(
                    arm.GetProperty("trials").GetInt64(), arm.GetProperty("successes").GetInt64(), arm.GetProperty("count").GetInt64(),
                    arm.GetProperty("mean").GetDouble(), arm.GetProperty("squares").GetDouble());
            }

            return (served, states);
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    public void Forget()
    {
        if (File.Exists(FilePath))
        {
            File.Delete(FilePath);
        }
    }
}
