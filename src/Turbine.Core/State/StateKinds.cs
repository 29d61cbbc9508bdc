namespace Turbine.Core.State;

/// <summary>
/// The kinds of documents and logs in the <see cref="IStateStore"/>. A kind that ends in a slash is followed by a route
/// name: its documents are one per replica (figures each replica counts itself), or its log is the route's.
/// </summary>
public static class StateKinds
{
    /// <summary>A model's pinned default version and labels, named after the model.</summary>
    public const string VersionRouting = "versions";

    /// <summary>Route definitions, named after the route.</summary>
    public const string Routes = "routes";

    /// <summary>Pipeline definitions, named after the pipeline.</summary>
    public const string Pipelines = "pipelines";

    /// <summary>A canary rollout's progress (state, step, the last decision), named after the route: one for the service.</summary>
    public const string CanaryProgress = "canary";

    /// <summary>A route's A/B figures as one replica counted them: <c>experiments/&lt;route&gt;</c>, named after the replica.</summary>
    public const string Experiments = "experiments/";

    /// <summary>A rollout's current-step figures as one replica counted them: <c>canary-figures/&lt;route&gt;</c>, named after the replica.</summary>
    public const string CanaryFigures = "canary-figures/";

    /// <summary>A rollout's audit log: <c>canary-audit/&lt;route&gt;</c>.</summary>
    public const string CanaryAudit = "canary-audit/";

    /// <summary>Feedback for request ids the receiving replica did not serve: <c>feedback/&lt;route&gt;</c>.</summary>
    public const string Feedback = "feedback/";
}
