namespace Turbine.Autoscaling;

/// <summary>
/// Replays an arrival trace against a fleet of replicas under a scaling policy, event by event. Each request goes to
/// the ready replica with the fewest requests per slot (a least-loaded balancer); a replica runs up to its slots at
/// once and queues the rest up to its limit, refusing beyond (Turbine's 503); with no ready replica a request is
/// refused. Every sync period the policy names the replicas wanted: new ones start (cold start, then readiness
/// delay), removed ones stop taking requests and leave once drained. Service times are drawn per request from the
/// seed, so two runs of one trace see the same work (common random numbers) and their differences are the policy's.
/// </summary>
public static class FleetSimulator
{
    private enum EventKind
    {
        Arrival,
        Completion,
        Ready,
        Sync,
    }

    /// <summary>Runs the trace to its end (and the fleet until drained).</summary>
    public static SimulationResult Run(ArrivalTrace trace, FleetSettings settings, IScalingPolicy policy, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(policy);
        var state = new FleetState(settings, trace.Arrivals.Count, seed);
        var events = new PriorityQueue<(EventKind Kind, int Argument, double Extra), (double Time, long Order)>();
        long order = 0;
        void Schedule(double time, EventKind kind, int argument = 0, double extra = 0) => events.Enqueue((kind, argument, extra), (time, order++));

        for (var r = 0; r < settings.InitialReplicas; r++)
        {
            state.Replicas.Add(new Replica(state.Replicas.Count, 0) { ReadyAt = 0, IsReady = true });
        }

        if (trace.Arrivals.Count > 0)
        {
            Schedule(trace.Arrivals[0], EventKind.Arrival, 0);
        }

        Schedule(settings.SyncPeriodSeconds, EventKind.Sync);
        while (events.TryDequeue(out var next, out var at))
        {
            state.Advance(at.Time);
            switch (next.Kind)
            {
                case EventKind.Arrival:
                    Arrive(state, trace, next.Argument, at.Time, Schedule);
                    break;
                case EventKind.Completion:
                    Complete(state, state.Replicas[next.Argument], at.Time, next.Extra, Schedule);
                    break;
                case EventKind.Ready:
                    state.Replicas[next.Argument].IsReady = !state.Replicas[next.Argument].IsRemoved;
                    break;
                case EventKind.Sync when at.Time < trace.Duration:
                    Sync(state, policy, at.Time, Schedule);
                    Schedule(at.Time + settings.SyncPeriodSeconds, EventKind.Sync);
                    break;
            }
        }

        return state.Summary(policy.Name);
    }

    private static void Arrive(FleetState state, ArrivalTrace trace, int index, double now, Action<double, EventKind, int, double> schedule)
    {
        if (index + 1 < trace.Arrivals.Count)
        {
            schedule(trace.Arrivals[index + 1], EventKind.Arrival, index + 1, 0);
        }

        state.ArrivedInPeriod++;
        var replica = state.LeastLoaded();
        if (replica is null)
        {
            state.Refuse();
            return;
        }

        var service = state.Service.Slots;
        if (replica.Busy < service)
        {
            replica.Busy++;
            schedule(now + state.ServiceTime(index), EventKind.Completion, replica.Index, now);
        }
        else if (replica.Queue.Count < state.Service.QueueLimit)
        {
            replica.Queue.Enqueue((index, now));
        }
        else
        {
            state.Refuse();
        }
    }

    private static void Complete(FleetState state, Replica replica, double now, double arrivedAt, Action<double, EventKind, int, double> schedule)
    {
        state.Answer(now - arrivedAt);
        if (replica.Queue.TryDequeue(out var waiting))
        {
            schedule(now + state.ServiceTime(waiting.Index), EventKind.Completion, replica.Index, waiting.ArrivedAt);
        }
        else
        {
            replica.Busy--;
        }
    }

    private static void Sync(FleetState state, IScalingPolicy policy, double now, Action<double, EventKind, int, double> schedule)
    {
        var live = state.Replicas.Where(r => !r.IsRemoved).ToList();
        var ready = live.Where(r => r.IsReady).ToList();
        var observation = new FleetObservation(now, live.Count, ready.Count, ready.Sum(r => r.Busy + r.Queue.Count), state.ArrivedInPeriod / state.Settings.SyncPeriodSeconds);
        state.ArrivedInPeriod = 0;
        var desired = Math.Max(0, policy.Desired(observation));
        for (var k = live.Count; k < desired; k++)
        {
            var replica = new Replica(state.Replicas.Count, now) { ReadyAt = now + state.Settings.ColdStartSeconds + state.Settings.ReadinessSeconds };
            state.Replicas.Add(replica);
            schedule(replica.ReadyAt, EventKind.Ready, replica.Index, 0);
        }

        // Removed first: replicas still starting, then the least loaded; a removed replica takes no new requests and
        // finishes what it holds (the preStop and drain of docs/KUBERNETES.md).
        foreach (var replica in live.OrderBy(r => r.IsReady).ThenBy(r => r.Busy + r.Queue.Count).Take(Math.Max(0, live.Count - desired)))
        {
            replica.IsRemoved = true;
            replica.IsReady = false;
        }

        state.RecordReplicas(now);
    }
}

/// <summary>One replica's state in the simulation; <see cref="Index"/> is its place in the fleet's list, which events name it by.</summary>
internal sealed class Replica(int index, double createdAt)
{
    public int Index { get; } = index;

    public double CreatedAt { get; } = createdAt;

    public double ReadyAt { get; set; }

    public bool IsReady { get; set; }

    public bool IsRemoved { get; set; }

    public int Busy { get; set; }

    public Queue<(int Index, double ArrivedAt)> Queue { get; } = new();

    /// <summary>Whether the replica still exists (costs money): not removed, or removed and still draining.</summary>
    public bool Exists => !IsRemoved || Busy > 0 || Queue.Count > 0;
}
