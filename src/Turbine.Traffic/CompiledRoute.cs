using System.Text;
using Turbine.Core.State;

namespace Turbine.Traffic;

/// <summary>What compiled routes share: the clock, the store their state lives in (null: memory), and the process's CPU gauge.</summary>
internal sealed record RouteEnvironment(TimeProvider Time, IStateStore? Store, Func<double> CpuUtilization);

/// <summary>
/// A route ready to serve: it picks variants by weight or sticky hash, counts requests per variant, and holds what
/// runs alongside (each variant's resilience pipeline and breaker, the A/B experiment and its checkpoint, the shadow
/// mirror and comparison, the canary rollout that moves the weights).
/// </summary>
public sealed class CompiledRoute
{
    private readonly long[] _served;
    private readonly Polly.ResiliencePipeline<Core.Execution.InferenceResult>[]? _pipelines;
    private readonly Polly.CircuitBreaker.CircuitBreakerStateProvider[]? _circuits;
    private readonly ExperimentStore? _experiments;
    private readonly IStateStore? _store;
    private readonly string _feedbackLog;
    private readonly Func<double> _cpuUtilization;

    /// <summary>Where this replica stands in the route's log of forwarded feedback; null while the store could not tell.</summary>
    private long? _feedbackRead;

    /// <summary>Running sums of the weights; replaced whole when a rollout moves them, so a pick sees one set.</summary>
    private double[] _cumulative;

    /// <summary>Compiles a route; its state (rollout, A/B figures) lives in the environment's store and is read back as <paramref name="start"/> says.</summary>
    internal CompiledRoute(RouteDefinition definition, RouteEnvironment environment, RouteStart start = RouteStart.Fresh)
    {
        Definition = definition;
        var time = environment.Time;
        _store = environment.Store;
        _feedbackLog = StateKinds.Feedback + definition.Name;
        _cpuUtilization = environment.CpuUtilization;
        Mirror = new ShadowMirror(time);
        var journal = _store is null ? null : new Canary.CanaryJournal(_store, definition.Name);
        _experiments = _store is null ? null : new ExperimentStore(_store, definition.Name);
        if (definition.Resilience is { } resilience)
        {
            _circuits = resilience.CircuitBreaker is null ? null : [.. definition.Variants.Select(_ => new Polly.CircuitBreaker.CircuitBreakerStateProvider())];
            _pipelines = [.. definition.Variants.Select((_, i) => VariantResilience.Build(resilience, time, _circuits?[i]))];
            Hedging = resilience.Hedge is { } hedge ? new RouteHedging(hedge) : null;
        }

        _cumulative = Cumulative([.. definition.Variants.Select(v => v.Weight)]);
        _served = new long[_cumulative.Length];
        Experiment = new RouteExperiment(_cumulative.Length);
        if (start == RouteStart.Resume && _experiments?.Load(definition.Variants) is { } saved)
        {
            saved.Served.CopyTo(_served, 0);
            for (var i = 0; i < saved.Arms.Length; i++)
            {
                Experiment.Arm(i).Restore(saved.Arms[i]);
            }
        }
        else if (start == RouteStart.Follow)
        {
            ForgetOwnFigures();
        }

        if (definition.Canary is { } plan)
        {
            Canary = new Canary.CanaryRollout(definition.Name, plan, time, journal, start, ApplyCanaryPercent, Shadow.Snapshot);
        }

        _feedbackRead = FeedbackEnd(); // feedback forwarded from now on: older records were for the route's earlier life
    }

    public RouteDefinition Definition { get; }

    /// <summary>The route's canary rollout, when it has one; it owns the two variants' weights.</summary>
    public Canary.CanaryRollout? Canary { get; }

    /// <summary>
    /// Saves this replica's A/B figures (requests per arm, feedback sums), any rollout decision not yet journaled, and,
    /// with a shared store, the rollout's step figures for the leader.
    /// </summary>
    /// <returns>Whether the rollout's journal is complete (a failed write stays queued for the next checkpoint).</returns>
    /// <exception cref="IOException">The figures could not be written; the next checkpoint tries again.</exception>
    internal bool Checkpoint()
    {
        var journaled = Canary?.FlushJournal() ?? true;
        Canary?.Publish();
        _experiments?.Save(Definition.Variants, [.. Enumerable.Range(0, _served.Length).Select(Served)], [.. Enumerable.Range(0, _served.Length).Select(i => Experiment.Arm(i).State())]);
        return journaled;
    }

    /// <summary>Removes what route <paramref name="name"/> saved besides its definition (rollout progress, every replica's figures): it was deleted or set anew here.</summary>
    /// <exception cref="IOException">The store could not be written.</exception>
    internal static void Forget(IStateStore store, string name)
    {
        new Canary.CanaryJournal(store, name).Forget();
        new ExperimentStore(store, name).ForgetAll();
    }

    /// <summary>
    /// The route's A/B figures for the whole service: this replica's live counts plus the last checkpoint of every other
    /// replica sharing the store. When the store cannot be read, this replica's alone.
    /// </summary>
    internal ExperimentFigures Totals()
    {
        var totals = new ExperimentFigures([.. Enumerable.Range(0, _served.Length).Select(Served)], [.. Enumerable.Range(0, _served.Length).Select(i => Experiment.Arm(i).State())]);
        if (_experiments is { IsShared: true } experiments)
        {
            try
            {
                foreach (var other in experiments.Others(Definition.Variants))
                {
                    totals = totals.Plus(other);
                }
            }
            catch (IOException)
            {
                // the store is down: report what this replica knows
            }
        }

        return totals;
    }

    /// <summary>Whether feedback for a request id this replica did not serve can go to the replicas that may have.</summary>
    internal bool ForwardsFeedback => _store is { IsShared: true };

    /// <summary>Hands feedback for a request id this replica does not know to the other replicas.</summary>
    /// <exception cref="IOException">The store could not be written.</exception>
    internal void ForwardFeedback(ReadOnlySpan<byte> json) => _store!.Append(_feedbackLog, json);

    /// <summary>
    /// Applies the feedback other replicas forwarded since the last call, for the request ids this replica served;
    /// the rest belongs to others.
    /// </summary>
    /// <returns>How many records applied here.</returns>
    /// <exception cref="IOException">The store could not be read; the next sync tries again.</exception>
    internal int PullFeedback(int maxDepth)
    {
        if (_store is not { IsShared: true } store)
        {
            return 0;
        }

        if (_feedbackRead is not { } read)
        {
            _feedbackRead = store.LogEnd(_feedbackLog); // the store was down when the route was compiled: from now on
            return 0;
        }

        var applied = 0;
        IReadOnlyList<StateLogRecord> records;
        do
        {
            records = store.ReadLog(_feedbackLog, read, 1000);
            foreach (var record in records)
            {
                read = record.Position;
                if (record.Replica != store.Replica && RouteReport.ApplyForwarded(this, record.Body, maxDepth))
                {
                    applied++;
                }
            }
        }
        while (records.Count == 1000);

        _feedbackRead = read;
        return applied;
    }

    /// <summary>How long forwarded feedback is kept: far longer than the 100,000 ids a replica remembers last, at any useful rate.</summary>
    internal static readonly TimeSpan FeedbackKept = TimeSpan.FromHours(1);

    /// <summary>Deletes forwarded feedback older than <see cref="FeedbackKept"/> (the leader does, for everyone).</summary>
    internal void TrimFeedback() => _store?.TrimLog(_feedbackLog, FeedbackKept);

    private long? FeedbackEnd()
    {
        try
        {
            return _store is { IsShared: true } store ? store.LogEnd(_feedbackLog) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private void ForgetOwnFigures()
    {
        try
        {
            _experiments?.ForgetOwn();
        }
        catch (IOException)
        {
            // a leftover checkpoint is overwritten at the next one
        }
    }

    /// <summary>The variants' weights now: as declared, or as the rollout has set them.</summary>
    public double Weight(int index)
    {
        var cumulative = Volatile.Read(ref _cumulative);
        return index == 0 ? cumulative[0] : cumulative[index] - cumulative[index - 1];
    }

    /// <summary>Feedback on the arms, for A/B reports.</summary>
    public RouteExperiment Experiment { get; }

    /// <summary>How the shadow compares with the primary, when the route has one.</summary>
    public ShadowComparison Shadow { get; } = new();

    /// <summary>Variant <paramref name="index"/>'s resilience pipeline, or null when the route has none.</summary>
    internal Polly.ResiliencePipeline<Core.Execution.InferenceResult>? Pipeline(int index) => _pipelines?[index];

    /// <summary>The route's hedged requests, when its resilience has a hedge.</summary>
    public RouteHedging? Hedging { get; }

    /// <summary>The state of variant <paramref name="index"/>'s circuit breaker, or null when the route has none.</summary>
    public Polly.CircuitBreaker.CircuitState? Circuit(int index) => _circuits?[index].CircuitState;

    /// <summary>The queue and worker that run this route's mirrored requests.</summary>
    internal ShadowMirror Mirror { get; }

    /// <summary>
    /// Whether this request is one of the share mirrored to the shadow. While the process uses more of the cores than
    /// the shadow's <see cref="ShadowTarget.MaxCpu"/>, a mirror is shed instead (and counted): the clients come first.
    /// </summary>
    public bool ShouldMirror()
    {
        if (Definition.Shadow is not { Share: > 0 } shadow || Random.Shared.NextDouble() >= shadow.Share)
        {
            return false;
        }

        if (shadow.MaxCpu < 1 && _cpuUtilization() > shadow.MaxCpu)
        {
            Shadow.Shed();
            return false;
        }

        return true;
    }

    /// <summary>Requests sent to variant <paramref name="index"/> since the route was set.</summary>
    public long Served(int index) => Volatile.Read(ref _served[index]);

    /// <summary>
    /// Picks a variant for one request. With a sticky key the pick is a hash of the route and the key, so the same key
    /// lands in the same variant for as long as the weights stay; when weights move, only keys near the moved
    /// boundaries change arms. Without one, each request draws afresh.
    /// </summary>
    public int Pick(string? stickyKey)
    {
        var cumulative = Volatile.Read(ref _cumulative);
        var point = (stickyKey is null ? Random.Shared.NextDouble() : UnitInterval(Definition.Name, stickyKey)) * cumulative[^1];
        var index = 0;
        while (index < cumulative.Length - 1 && (point >= cumulative[index] || cumulative[index] == (index == 0 ? 0 : cumulative[index - 1])))
        {
            index++;
        }

        Interlocked.Increment(ref _served[index]);
        return index;
    }

    private void ApplyCanaryPercent(double percent) => Volatile.Write(ref _cumulative, Cumulative([100 - percent, percent]));

    private static double[] Cumulative(double[] weights)
    {
        var total = 0.0;
        for (var i = 0; i < weights.Length; i++)
        {
            total += weights[i];
            weights[i] = total;
        }

        return weights;
    }

    /// <summary>FNV-1a over the route name and the key, mapped to [0, 1): stable across processes and restarts.</summary>
    private static double UnitInterval(string route, string key)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(route + "\n" + key))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        hash ^= hash >> 33; // FNV's low bits mix poorly: fold the high ones in before taking the top 53 bits
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return (hash >> 11) * (1.0 / (1UL << 53));
    }
}
