namespace Turbine.Core.Observation;

/// <summary>
/// Sees every completed request with who it was for (<see cref="UsageAccount"/>) and the compute it took: cost
/// attribution hangs here. Called on the request's own path, so an implementation must be cheap and lock-free.
/// </summary>
public interface IUsageMeter
{
    /// <summary>Records one completed request.</summary>
    void Record(in InferenceUsage usage);
}

/// <summary>One completed request as the usage meter sees it.</summary>
/// <param name="Model">The model that answered (a route's variant, a pipeline), or the name called when nothing did.</param>
/// <param name="Route">The route called, if any.</param>
/// <param name="Variant">The route's variant that served it, if any.</param>
/// <param name="ComputeNanoseconds">The execution time it accounts for (<see cref="InferenceResponse.ComputeNanoseconds"/>).</param>
/// <param name="Failed">Whether it failed.</param>
/// <param name="Account">Who it was for.</param>
public readonly record struct InferenceUsage(string Model, string? Route, string? Variant, long ComputeNanoseconds, bool Failed, UsageAccount? Account);

/// <summary>
/// Who a request is for: the API key that authenticated it (by its configured name), or the batch job it belongs to.
/// Set where the request enters (the API key check, a job worker) and carried with the async flow to the usage
/// meter, so that no protocol has to pass it along.
/// </summary>
/// <param name="ApiKey">The API key's name.</param>
/// <param name="Job">The batch job's id.</param>
public sealed record UsageAccount(string? ApiKey, string? Job)
{
    private static readonly AsyncLocal<UsageAccount?> Ambient = new();

    /// <summary>The account of the request running in this async flow, if any was set.</summary>
    public static UsageAccount? Current
    {
        get => Ambient.Value;
        set => Ambient.Value = value;
    }
}
