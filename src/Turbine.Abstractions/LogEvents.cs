namespace Turbine;

/// <summary>
/// The one ledger of log event ids, so that alerts and log queries can match on a number that never changes. Ids
/// are grouped in ranges of a hundred by area; a new message takes the next free id of its range, and an id is
/// never renumbered or reused, even after its message is gone.
/// </summary>
public static class LogEvents
{
    // 1000-1099: model lifecycle (loads, reloads, unloads).

    /// <summary>A model loaded and serves.</summary>
    public const int ModelLoaded = 1000;

    /// <summary>A load failed; what served before still serves.</summary>
    public const int ModelLoadFailed = 1001;

    /// <summary>A configuration holds fields Turbine does not act on.</summary>
    public const int ConfigFieldsIgnored = 1002;

    /// <summary>A model was unloaded.</summary>
    public const int ModelUnloaded = 1003;

    /// <summary>The state of one version after the first loads.</summary>
    public const int VersionState = 1004;

    /// <summary>The server starts loading its repository.</summary>
    public const int RepositoryLoading = 1005;

    /// <summary>A model folder changed and is reloaded (poll mode).</summary>
    public const int RepositoryChanged = 1006;

    /// <summary>A model folder left the repository and is unloaded (poll mode).</summary>
    public const int RepositoryRemoved = 1007;

    /// <summary>A route, pipeline or other declared object was configured at start.</summary>
    public const int Declared = 1008;

    /// <summary>Shutdown's exit timeout ran out before every model drained.</summary>
    public const int ExitTimeout = 1009;

    /// <summary>A model's default version or labels changed.</summary>
    public const int VersionRoutingChanged = 1010;

    /// <summary>Inspection of a version's files found something worth a warning (a model scan finding that does not block).</summary>
    public const int InspectionWarning = 1011;

    /// <summary>A model was unloaded to make room for another within the paging budget.</summary>
    public const int ModelPagedOut = 1012;

    /// <summary>A model was not loaded on demand: its budget is held by busy models, or it is bigger than the budget.</summary>
    public const int ModelPageRefused = 1013;

    // 1100-1199: execution.

    /// <summary>A model execution failed (the runtime's own words, never tensor contents).</summary>
    public const int ModelExecutionFailed = 1100;

    /// <summary>A worker round failed outside the model call; its requests were answered with an error.</summary>
    public const int WorkerRoundFailed = 1101;

    /// <summary>An inference observer threw; the observation goes on to the other observers.</summary>
    public const int ObserverFailed = 1102;

    /// <summary>A sequence of a stateful model was idle past its limit and was ended.</summary>
    public const int SequenceExpired = 1103;

    // 1200-1299: pipelines and ensembles.

    /// <summary>A Triton ensemble serves as a pipeline.</summary>
    public const int EnsembleServing = 1200;

    /// <summary>A Triton ensemble cannot serve.</summary>
    public const int EnsembleFailed = 1201;

    // 1300-1399: traffic (routes, canary, shadow, A/B).

    /// <summary>A canary rollout stepped, promoted or rolled back.</summary>
    public const int CanaryDecision = 1300;

    /// <summary>A shadow request failed or was dropped.</summary>
    public const int ShadowFailed = 1301;

    // 1400-1499: the state store.

    /// <summary>A state-store read or write failed; it is retried.</summary>
    public const int StateStoreFailed = 1400;

    /// <summary>The state store recovered after failures.</summary>
    public const int StateStoreRecovered = 1401;

    /// <summary>Another replica changed shared state and this one applied it.</summary>
    public const int StateChangeApplied = 1402;

    /// <summary>The connection that hears other replicas' changes was lost; it reconnects and reads everything again.</summary>
    public const int StateListenerLost = 1403;

    /// <summary>This replica became, or stopped being, the leader that judges canary rollouts.</summary>
    public const int StateLeadershipChanged = 1404;

    // 1500-1599: the model registry.

    /// <summary>A followed alias moved and this server now serves its new version.</summary>
    public const int RegistryServing = 1500;

    /// <summary>A followed version was refused (signature, digests, load) and the previous one keeps serving.</summary>
    public const int RegistryRefused = 1501;

    /// <summary>The registry could not be read; the server retries at the next poll.</summary>
    public const int RegistryUnavailable = 1502;

    // 1600-1699: batch jobs.

    /// <summary>A worker claimed a queued job and plans its partitions.</summary>
    public const int JobPlanning = 1600;

    /// <summary>A worker finished a partition and published its part.</summary>
    public const int JobPartitionDone = 1601;

    /// <summary>A partition failed for good (a full disk, an input changed under the job): the job failed with the reason; earlier parts are intact.</summary>
    public const int JobPartitionFailed = 1602;

    /// <summary>Every partition of a job is done and its summary written.</summary>
    public const int JobSucceeded = 1603;

    /// <summary>A worker took back the partitions of a worker on its machine whose process is gone.</summary>
    public const int JobLeasesReclaimed = 1604;

    /// <summary>A server's job worker failed (the job store or storage is down) and starts again.</summary>
    public const int JobWorkerFailed = 1605;

    /// <summary>A request broke a data-quality rule whose policy logs.</summary>
    public const int QualityRuleBroken = 1701;
}
