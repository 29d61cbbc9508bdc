namespace Turbine.Core.Execution;

/// <summary>
/// Serves one loaded version of a model. Versions, labels, hot reload, warm-up, drain and statistics are built on
/// this seam alone, so a runner of another kind (a decoder engine with its own step loop, a remote model) gets all
/// of them unchanged. <see cref="ModelVersionRunner"/> is the one for backends of <see cref="IModelInstance"/>s.
/// </summary>
public interface IVersionRunner : IAsyncDisposable
{
    /// <summary>The configuration the version was loaded with.</summary>
    ModelConfig Config { get; }

    /// <summary>The version number.</summary>
    long Version { get; }

    /// <summary>The version number as protocols write it.</summary>
    string VersionText { get; }

    /// <summary>
    /// What was loaded: the same for two loads of the same configuration and model file, different otherwise. The
    /// response cache keys on it, so a version reloaded in place never answers with the previous load's outputs.
    /// </summary>
    string LoadIdentity { get; }

    /// <summary>Counters and durations of this version's requests and executions.</summary>
    ModelStatistics Statistics { get; }

    /// <summary>Whether the runner has stopped taking requests (it is draining or released).</summary>
    bool IsRetired { get; }

    /// <summary>Requests waiting now.</summary>
    int QueuedRequests { get; }

    /// <summary>Requests being executed now.</summary>
    int ExecutingRequests { get; }

    /// <summary>How many warm-up requests run side by side, so that every execution unit runs each sample.</summary>
    int WarmupConcurrency { get; }

    /// <summary>
    /// Runs a validated request. Never throws for a request's own failure: every outcome, refusals included, is an
    /// <see cref="InferenceResult"/>. After <see cref="IAsyncDisposable.DisposeAsync"/> has begun it refuses with
    /// <see cref="StatusCode.Unavailable"/>, which tells the caller to resolve the version again.
    /// </summary>
    ValueTask<InferenceResult> EnqueueAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken);
}

/// <summary>
/// A backend that serves its versions with its own kind of runner instead of instances behind
/// <see cref="ModelVersionRunner"/>: the loader asks it for the runner and treats that runner like any other.
/// </summary>
public interface IVersionRunnerFactory
{
    /// <summary>Loads one version. Expensive: called at load, on the loader's thread.</summary>
    /// <exception cref="InferenceException">The version cannot be loaded.</exception>
    IVersionRunner CreateRunner(VersionLoadContext context);
}

/// <summary>What a runner is loaded from.</summary>
/// <param name="Config">The completed, validated configuration.</param>
/// <param name="Version">The version number.</param>
/// <param name="ModelPath">The version's model file.</param>
/// <param name="LoadIdentity">What the load is (<see cref="IVersionRunner.LoadIdentity"/>).</param>
/// <param name="Time">The clock.</param>
/// <param name="Logger">Where the runner logs its failures (with model, version and request id; never tensor contents).</param>
public sealed record VersionLoadContext(ModelConfig Config, long Version, string ModelPath, string LoadIdentity, TimeProvider Time, Microsoft.Extensions.Logging.ILogger Logger);
