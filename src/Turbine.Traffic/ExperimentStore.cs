using System.Text.Json;
using Turbine.Core.State;

namespace Turbine.Traffic;

/// <summary>
/// Keeps a route's A/B figures in the state store: the requests each arm served and each arm's feedback sums, one
/// document per replica (<c>experiments/&lt;route&gt;</c>, named after the replica), so that an experiment that runs
/// for days survives restarts and a report can add up what every replica counted. A document names the route's
/// variants; one that no longer matches them is ignored.
/// </summary>
internal sealed class ExperimentStore(IStateStore store, string route)
{
    private readonly string _kind = StateKinds.Experiments + route;

    public bool IsShared => store.IsShared;

    public void Save(IReadOnlyList<RouteVariant> variants, IReadOnlyList<long> served, IReadOnlyList<ArmState> arms) => store.PutJson(_kind, store.Replica, writer =>
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

    /// <summary>This replica's saved figures, when there are some for exactly these variants; null otherwise (the experiment starts afresh).</summary>
    public ExperimentFigures? Load(IReadOnlyList<RouteVariant> variants)
    {
        try
        {
            return store.Find(_kind, store.Replica) is { } bytes ? Parse(bytes, variants) : null;
        }
        catch (StateStoreException)
        {
            return null;
        }
    }

    /// <summary>What the other replicas saved for these variants (their last checkpoint each).</summary>
    /// <exception cref="StateStoreException">The store could not be read.</exception>
    public IEnumerable<ExperimentFigures> Others(IReadOnlyList<RouteVariant> variants)
    {
        foreach (var document in store.List(_kind))
        {
            if (document.Name != store.Replica && Parse(document.Body, variants) is { } figures)
            {
                yield return figures;
            }
        }
    }

    /// <summary>Forgets every replica's figures: the route was deleted or set anew.</summary>
    public void ForgetAll() => store.DeleteAll(_kind);

    /// <summary>Forgets this replica's figures: another replica set the route anew.</summary>
    public void ForgetOwn() => store.Delete(_kind, store.Replica);

    private static ExperimentFigures? Parse(byte[] bytes, IReadOnlyList<RouteVariant> variants)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
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

            return new ExperimentFigures(served, states);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>Requests served and feedback sums per arm, as one replica counted them or as the service's total.</summary>
internal sealed record ExperimentFigures(long[] Served, ArmState[] Arms)
{
    /// <summary>The sum of two replicas' figures.</summary>
    public ExperimentFigures Plus(ExperimentFigures other)
    {
        var served = new long[Served.Length];
        var arms = new ArmState[Arms.Length];
        for (var i = 0; i < served.Length; i++)
        {
            served[i] = Served[i] + other.Served[i];
            arms[i] = Arms[i].Plus(other.Arms[i]);
        }

        return new ExperimentFigures(served, arms);
    }
}
