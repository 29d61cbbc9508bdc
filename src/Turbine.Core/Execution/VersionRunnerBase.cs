using System.Globalization;

namespace Turbine.Core.Execution;

/// <summary>
/// What runners of their own kind (<see cref="IVersionRunnerFactory"/>: remote models, custom models) share: the
/// version's identity from its load context, its statistics, the drain of the requests in flight, and the counts of
/// requests waiting and executing. A subclass runs one admitted request and releases what it holds once drained.
/// </summary>
public abstract class VersionRunnerBase : IVersionRunner
{
    private readonly InFlightRequests _inFlight = new();
    private int _waiting;
    private int _executing;

    /// <summary>Creates the runner of the version <paramref name="context"/> loaded.</summary>
    protected VersionRunnerBase(VersionLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
    }

    /// <summary>What the version was loaded with: configuration, number, path, clock, logger.</summary>
    protected VersionLoadContext Context { get; }

    public ModelConfig Config => Context.Config;

    public long Version => Context.Version;

    public string VersionText => Context.Version.ToString(CultureInfo.InvariantCulture);

    public string LoadIdentity => Context.LoadIdentity;

    public ModelStatistics Statistics { get; } = new();

    public bool IsRetired => _inFlight.IsRetired;

    public int QueuedRequests => Volatile.Read(ref _waiting);

    public int ExecutingRequests => Volatile.Read(ref _executing);

    public virtual int WarmupConcurrency => 1;

    public async ValueTask<InferenceResult> EnqueueAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(validated);
        if (!_inFlight.TryEnter())
        {
            return InferenceResult.Failed(StatusCode.Unavailable, "the version is being unloaded");
        }

        try
        {
            return await RunAsync(request, validated, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.Exit();
        }
    }

    /// <summary>Stops taking requests, waits for the ones in flight, then releases the runner's own resources.</summary>
    public async ValueTask DisposeAsync()
    {
        await _inFlight.RetireAsync().ConfigureAwait(false);
        await ReleaseAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs one admitted request; every outcome is an <see cref="InferenceResult"/>, never an exception.</summary>
    protected abstract ValueTask<InferenceResult> RunAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken);

    /// <summary>Releases what the runner holds, once no request is in flight.</summary>
    protected abstract ValueTask ReleaseAsync();

    /// <summary>Counts a request as waiting (for a slot, an instance) until <see cref="StopWaiting"/>.</summary>
    protected void StartWaiting() => Interlocked.Increment(ref _waiting);

    protected void StopWaiting() => Interlocked.Decrement(ref _waiting);

    /// <summary>Counts a request as executing until <see cref="StopExecuting"/>.</summary>
    protected void StartExecuting() => Interlocked.Increment(ref _executing);

    protected void StopExecuting() => Interlocked.Decrement(ref _executing);
}
