namespace Turbine.Traffic.Canary;

/// <summary>
/// Runs one route's canary rollout: counts what the canary and the baseline do in the current step, judges the gates
/// (<see cref="CanaryGates"/>) as traffic flows, moves the canary's share up a step when they pass and back to zero at
/// once when one fails, and takes an operator's pause, resume, promote and rollback. Every decision takes effect at
/// once and is journaled as it is taken; when the journal cannot be written (disk full, state store down) the
/// decision still stands, a rollback above all, and is journaled, in order, once a write succeeds again. With a store
/// of its own, judging happens on the request path, at most every 100 ms, at once after a canary failure and when a
/// step reaches its request count: a rollout without traffic has nothing new to judge. With a store that replicas
/// share, every replica counts and publishes its step figures, the leader alone judges (at each state sync, on the
/// figures of all replicas added up), and the others follow the progress the leader saves.
/// </summary>
public sealed class CanaryRollout
{
    private const int HistoryKept = 64;
    private static readonly TimeSpan JudgeInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly CanaryJournal? _journal;
    private readonly Action<double> _applyCanaryPercent;
    private readonly Func<ShadowFigures> _shadow;
    private readonly Queue<CanaryDecision> _history = new();
    private readonly Queue<CanaryDecision> _unjournaled = new();
    private readonly Dictionary<string, long> _decisions = new(StringComparer.Ordinal);
    private StepCounters _step;
    private long _epoch;
    private long _nextJudgement;
    private long _journalFailures;

    /// <summary>How many of the queued decisions are in the audit log already (their progress write failed).</summary>
    private int _journaledAhead;

    internal CanaryRollout(
        string route, CanaryPlan plan, TimeProvider time, CanaryJournal? journal, RouteStart start, Action<double> applyCanaryPercent, Func<ShadowFigures> shadow)
    {
        Route = route;
        Plan = plan;
        _time = time;
        _journal = journal;
        _applyCanaryPercent = applyCanaryPercent;
        _shadow = shadow;
        _step = new StepCounters(time.GetTimestamp(), shadow());

        var saved = start == RouteStart.Fresh ? null : journal?.Load();
        if (saved is not null && (saved.Step < 0 || saved.Step >= plan.Steps.Count))
        {
            saved = null;
        }

        if (start == RouteStart.Fresh || (saved is null && journal is not { IsShared: true }))
        {
            Decide("start", "server", $"the route was set; step 1 of {plan.Steps.Count}", figures: null);
        }
        else if (journal is { IsShared: true } || start == RouteStart.Follow)
        {
            // Another replica set the route or took the decisions so far: follow them without deciding anything.
            Adopt(saved ?? new CanaryProgress(CanaryState.Running, 0, 0, null));
        }
        else
        {
            (State, Step, _epoch) = (saved!.State, saved.Step, saved.Epoch);
            Decide("restore", "server", $"the server restarted; the rollout resumes {CanaryJson.StateName(State)} at step {Step + 1} of {plan.Steps.Count}", figures: null);
        }
    }

    public string Route { get; }

    public CanaryPlan Plan { get; }

    public CanaryState State { get; private set; }

    /// <summary>The current step, from 0.</summary>
    public int Step { get; private set; }

    /// <summary>The canary's share of the traffic now, in percent.</summary>
    public double CanaryPercent => PercentOf(State, Step);

    /// <summary>The last decisions, oldest first.</summary>
    public IReadOnlyList<CanaryDecision> History
    {
        get
        {
            lock (_gate)
            {
                return [.. _history];
            }
        }
    }

    /// <summary>How many decisions of each action were taken since the route was set.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> DecisionCounts
    {
        get
        {
            lock (_gate)
            {
                return [.. _decisions.OrderBy(d => d.Key, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The current step's figures: this replica's, plus what the other replicas published for the same step.</summary>
    public CanaryFigures Figures()
    {
        var step = Volatile.Read(ref _step);
        var tally = step.Tally(_shadow());
        if (_journal is { IsShared: true })
        {
            try
            {
                foreach (var other in _journal.Others(Interlocked.Read(ref _epoch)))
                {
                    tally = tally.Plus(other);
                }
            }
            catch (IOException)
            {
                // the store is down: judge on this replica's figures; the gates wait for enough requests anyway
            }
        }

        return tally.Figures(_time.GetElapsedTime(step.Started).TotalSeconds);
    }

    /// <summary>Publishes this replica's figures of the current step for the leader to add up (a shared store only).</summary>
    /// <exception cref="IOException">The store could not be written; the next sync tries again.</exception>
    internal void Publish()
    {
        if (_journal is { IsShared: true } journal && State == CanaryState.Running)
        {
            journal.Publish(Interlocked.Read(ref _epoch), Volatile.Read(ref _step).Tally(_shadow()));
        }
    }

    /// <summary>Takes the progress another replica saved, when it is newer than what this one knows.</summary>
    internal void Follow()
    {
        if (_journal?.Load() is not { } progress)
        {
            return;
        }

        lock (_gate)
        {
            if (progress.Epoch > _epoch && progress.Step >= 0 && progress.Step < Plan.Steps.Count)
            {
                Adopt(progress);
            }
        }
    }

    private void Adopt(CanaryProgress progress)
    {
        (State, Step, _epoch) = (progress.State, progress.Step, progress.Epoch);
        StartStep();
        _applyCanaryPercent(CanaryPercent);
        if (progress.Decision is { } decision)
        {
            Remember(decision);
        }
    }

    /// <summary>Counts one answered (or failed) request of the baseline (variant 0) or the canary (variant 1), and judges the gates when it is time.</summary>
    internal void Observe(int variant, bool failed, TimeSpan latency)
    {
        if (variant > 1 || State != CanaryState.Running)
        {
            return;
        }

        var step = Volatile.Read(ref _step);
        var canaryRequests = step.Record(variant == 1, failed, latency);
        if (_journal is { IsShared: true })
        {
            return; // the leader judges the figures of every replica at each state sync
        }

        var now = _time.GetTimestamp();
        if ((variant == 1 && (failed || canaryRequests == Plan.MinStepRequests)) || now >= Volatile.Read(ref _nextJudgement))
        {
            Volatile.Write(ref _nextJudgement, now + (long)(JudgeInterval.TotalSeconds * _time.TimestampFrequency));
            Judge();
        }
    }

    /// <summary>Judges the gates now: rolls back when one fails, promotes when the step is over and all pass. With a shared store, only the leader judges.</summary>
    public void Judge()
    {
        lock (_gate)
        {
            if (State != CanaryState.Running || _journal is { IsShared: true, IsLeader: false })
            {
                return;
            }

            var figures = Figures();
            var stepOver = figures.StepSeconds >= Plan.MinStepSeconds && figures.Requests >= Plan.MinStepRequests;
            if (CanaryGates.Failure(Plan, figures, stepOver) is { } failure)
            {
                RollBack("gate", failure, figures);
            }
            else if (stepOver)
            {
                Advance("gate", CanaryGates.Success(figures), figures);
            }
        }
    }

    /// <summary>An operator's command: pause, resume, promote (to the next step) or rollback.</summary>
    public InferenceError? Control(string action, string? reason)
    {
        lock (_gate)
        {
            var figures = Figures();
            var why = string.IsNullOrWhiteSpace(reason) ? "by an operator" : reason;
            switch (action)
            {
                case "pause" when State == CanaryState.Running:
                    State = CanaryState.Paused;
                    Decide("pause", "operator", why, figures);
                    return null;
                case "resume" when State == CanaryState.Paused:
                    State = CanaryState.Running;
                    StartStep();
                    Decide("resume", "operator", why, figures);
                    return null;
                case "promote" when State is CanaryState.Running or CanaryState.Paused:
                    Advance("operator", why, figures);
                    return null;
                case "rollback" when State is not CanaryState.RolledBack:
                    RollBack("operator", why, figures);
                    return null;
                case "pause" or "resume" or "promote" or "rollback":
                    return new InferenceError(StatusCode.FailedPrecondition,
                        $"the rollout of route '{Route}' is {CanaryJson.StateName(State)}; it cannot {action}" +
                        (State is CanaryState.RolledBack or CanaryState.Promoted ? " (set the route again to start a new rollout)" : ""));
                default:
                    return InferenceError.Invalid($"'{ClientText.Quote(action)}' is not a rollout command; use pause, resume, promote or rollback");
            }
        }
    }

    private void Advance(string actor, string reason, CanaryFigures figures)
    {
        if (Step + 1 < Plan.Steps.Count)
        {
            Step++;
            State = CanaryState.Running;
            StartStep();
            Decide("promote", actor, reason, figures);
        }
        else
        {
            State = CanaryState.Promoted;
            Decide("complete", actor, reason, figures);
        }
    }

    private void RollBack(string actor, string reason, CanaryFigures figures)
    {
        State = CanaryState.RolledBack;
        Decide("rollback", actor, reason, figures);
    }

    private void StartStep() => Volatile.Write(ref _step, new StepCounters(_time.GetTimestamp(), _shadow()));

    /// <summary>Journal writes that failed since the route was set; each is retried.</summary>
    public long JournalFailures => Interlocked.Read(ref _journalFailures);

    /// <summary>Decisions taken but not yet in the journal.</summary>
    public int Unjournaled
    {
        get
        {
            lock (_gate)
            {
                return _unjournaled.Count;
            }
        }
    }

    /// <summary>Writes the decisions whose journal write failed; called on every decision and by the checkpoint timer.</summary>
    /// <returns>Whether every decision is now journaled.</returns>
    public bool FlushJournal()
    {
        lock (_gate)
        {
            return _journal is null || WriteJournal();
        }
    }

    private void Decide(string action, string actor, string reason, CanaryFigures? figures)
    {
        var from = _history.Count == 0 ? 0 : _history.Last().ToPercent;
        var decision = new CanaryDecision(_time.GetUtcNow(), action, actor, from, CanaryPercent, reason, figures ?? Figures());
        _applyCanaryPercent(CanaryPercent); // first: a rollback must take the canary's traffic away whatever the disk says
        Interlocked.Increment(ref _epoch);
        Remember(decision);
        if (_journal is not null)
        {
            _unjournaled.Enqueue(decision);
            _ = WriteJournal(); // a failure leaves the decision queued; the decision stands either way
        }
    }

    private void Remember(CanaryDecision decision)
    {
        _history.Enqueue(decision);
        while (_history.Count > HistoryKept)
        {
            _history.Dequeue();
        }

        _decisions[decision.Action] = _decisions.GetValueOrDefault(decision.Action) + 1;
    }

    private bool WriteJournal()
    {
        if (_unjournaled.Count == 0)
        {
            return true; // progress is saved with decisions only: a follower must never write back an older step
        }

        try
        {
            // The audit records first, the progress last: a decision leaves the queue once both are written.
            var appended = _journaledAhead;
            foreach (var pending in _unjournaled.Skip(appended))
            {
                _journal!.Append(pending);
                _journaledAhead = ++appended;
            }

            _journal!.Save(new CanaryProgress(State, Step, Interlocked.Read(ref _epoch), _history.Count == 0 ? null : _history.Last()));
            _unjournaled.Clear();
            _journaledAhead = 0;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _journalFailures); // kept in order, retried at the next decision or checkpoint
            return false;
        }
    }

    private double PercentOf(CanaryState state, int step) => state switch
    {
        CanaryState.Promoted => 100,
        CanaryState.RolledBack => 0,
        _ => Plan.Steps[step],
    };

    /// <summary>One step's counts, replaced whole when a step starts so that figures never mix steps.</summary>
    private sealed class StepCounters(long started, ShadowFigures shadowAtStart)
    {
        private readonly LatencyHistogram _canaryLatency = new();
        private long _canaryRequests;
        private long _canaryErrors;
        private long _baselineRequests;
        private long _baselineErrors;

        /// <summary>Counts a request; returns the canary's requests so far in this step.</summary>
        public long Record(bool canary, bool failed, TimeSpan latency)
        {
            if (!canary)
            {
                Interlocked.Increment(ref _baselineRequests);
                if (failed)
                {
                    Interlocked.Increment(ref _baselineErrors);
                }

                return Interlocked.Read(ref _canaryRequests);
            }

            if (failed)
            {
                Interlocked.Increment(ref _canaryErrors);
            }

            _canaryLatency.Record(latency);
            return Interlocked.Increment(ref _canaryRequests);
        }

        public long Started => started;

        public StepTally Tally(ShadowFigures shadowNow)
        {
            // Classifiers are compared on their top-1 class, other models on exact equality.
            var byTop1 = shadowNow.Top1Compared > shadowAtStart.Top1Compared;
            var compared = byTop1 ? shadowNow.Top1Compared - shadowAtStart.Top1Compared : shadowNow.Compared - shadowAtStart.Compared;
            var agreed = byTop1 ? shadowNow.Top1Agreed - shadowAtStart.Top1Agreed : shadowNow.ExactMatches - shadowAtStart.ExactMatches;
            return new StepTally(
                Interlocked.Read(ref _canaryRequests), Interlocked.Read(ref _canaryErrors), Interlocked.Read(ref _baselineRequests),
                Interlocked.Read(ref _baselineErrors), _canaryLatency.Counts(), compared, compared - agreed);
        }
    }
}
