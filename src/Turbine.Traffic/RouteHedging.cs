using Turbine.Core.Execution;

namespace Turbine.Traffic;

/// <summary>
/// A route's hedged requests (<see cref="RouteHedge"/>): the latencies of its latest answers set the wait before the hedge
/// is sent; hedges sent and hedges that answered first are counted for /metrics.
/// </summary>
public sealed class RouteHedging
{
    private readonly RecentLatencies _latencies;
    private long _hedges;
    private long _wins;

    internal RouteHedging(RouteHedge settings)
    {
        Settings = settings;
        _latencies = new RecentLatencies(settings.AfterPercentile);
    }

    public RouteHedge Settings { get; }

    /// <summary>Requests also sent to the hedge target because the variant was slower than the percentile.</summary>
    public long Hedges => Interlocked.Read(ref _hedges);

    /// <summary>Hedged requests the hedge target answered first (the variant's call was cancelled).</summary>
    public long Wins => Interlocked.Read(ref _wins);

    /// <summary>Runs <paramref name="variant"/>, hedged to <paramref name="hedge"/> after the wait; a losing answer is disposed whenever it ends.</summary>
    internal async Task<HedgeOutcome<InferenceResult>> RunAsync(
        Func<CancellationToken, Task<InferenceResult>> variant, Func<CancellationToken, Task<InferenceResult>> hedge, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var outcome = await Hedging.RunAsync(
            variant, hedge, _latencies.HedgeDelay(TimeSpan.FromMilliseconds(Settings.MinMilliseconds)), time,
            static result => !VariantResilience.IsFailure(result), static result => result.Response?.Dispose(), cancellationToken).ConfigureAwait(false);
        if (outcome.Hedged)
        {
            Interlocked.Increment(ref _hedges);
        }

        if (outcome.HedgeWon)
        {
            Interlocked.Increment(ref _wins);
        }

        if (!VariantResilience.IsFailure(outcome.Result))
        {
            _latencies.Add(time.GetElapsedTime(started));
        }

        return outcome;
    }
}
