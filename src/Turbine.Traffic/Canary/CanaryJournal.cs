using System.Text.Json;
using Turbine.Core.State;

namespace Turbine.Traffic.Canary;

/// <summary>
/// Where a rollout keeps what must outlive the process and, with a shared store, what its replicas must agree on: the
/// audit log (<c>canary-audit/&lt;route&gt;</c>, one record per decision, durable before the decision is reported),
/// its progress (<c>canary/&lt;route&gt;</c>: state, step, the number of decisions so far and the last one), so that a
/// restarted server resumes at the same step and other replicas follow, and each replica's figures for the current
/// step (<c>canary-figures/&lt;route&gt;</c>, one document per replica), which the leader adds up to judge the gates.
/// </summary>
internal sealed class CanaryJournal(IStateStore store, string route)
{
    private readonly string _figuresKind = StateKinds.CanaryFigures + route;

    /// <summary>Whether other replicas share the rollout.</summary>
    public bool IsShared => store.IsShared;

    /// <summary>Whether this replica judges the gates.</summary>
    public bool IsLeader => store.IsLeader;

    public void Append(CanaryDecision decision) => store.AppendJson(StateKinds.CanaryAudit + route, writer => CanaryJson.WriteDecision(writer, route, decision));

    public void Save(CanaryProgress progress) => store.PutJson(StateKinds.CanaryProgress, route, writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("state", CanaryJson.StateName(progress.State));
        writer.WriteNumber("step", progress.Step);
        writer.WriteNumber("epoch", progress.Epoch);
        if (progress.Decision is { } decision)
        {
            writer.WritePropertyName("decision");
            CanaryJson.WriteDecision(writer, route, decision);
        }

        writer.WriteEndObject();
    });

    /// <summary>The saved progress, or null when there is none or it cannot be read (the rollout then starts over).</summary>
    public CanaryProgress? Load()
    {
        try
        {
            if (store.Find(StateKinds.CanaryProgress, route) is not { } bytes)
            {
                return null;
            }

            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (!CanaryJson.TryParseState(root.GetProperty("state").GetString(), out var state))
            {
                return null;
            }

            var epoch = root.TryGetProperty("epoch", out var e) ? e.GetInt64() : 0;
            var decision = root.TryGetProperty("decision", out var d) ? CanaryJson.ReadDecision(d) : null;
            return new CanaryProgress(state, root.GetProperty("step").GetInt32(), epoch, decision);
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Saves this replica's figures of the step that <paramref name="epoch"/> started.</summary>
    public void Publish(long epoch, StepTally tally) => store.PutJson(_figuresKind, store.Replica, writer =>
    {
        writer.WriteStartObject();
        writer.WriteNumber("epoch", epoch);
        tally.Write(writer);
        writer.WriteEndObject();
    });

    /// <summary>The other replicas' figures of the step that <paramref name="epoch"/> started.</summary>
    /// <exception cref="StateStoreException">The store could not be read.</exception>
    public IEnumerable<StepTally> Others(long epoch)
    {
        foreach (var document in store.List(_figuresKind))
        {
            if (document.Name == store.Replica)
            {
                continue;
            }

            using var json = JsonDocument.Parse(document.Body);
            if (json.RootElement.TryGetProperty("epoch", out var e) && e.GetInt64() == epoch && StepTally.TryRead(json.RootElement, out var tally))
            {
                yield return tally;
            }
        }
    }

    /// <summary>Forgets the progress and every replica's figures (the route was deleted or set anew); the audit log stays.</summary>
    public void Forget()
    {
        store.Delete(StateKinds.CanaryProgress, route);
        store.DeleteAll(_figuresKind);
    }
}

/// <summary>Where a rollout stands: its state and step, how many decisions led there, and the last of them.</summary>
internal sealed record CanaryProgress(CanaryState State, int Step, long Epoch, CanaryDecision? Decision);
