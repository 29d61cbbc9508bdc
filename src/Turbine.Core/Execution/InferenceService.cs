using Turbine.Core.Lifecycle;

namespace Turbine.Core.Execution;

/// <summary>
/// The entry point every protocol calls: resolves the model version, validates the request against it and
/// queues it on that version's runner. Protocol adapters decode and encode; they decide nothing.
/// </summary>
public sealed class InferenceService
{
    /// <summary>How often a request follows a reload to the version that replaced the one it found.</summary>
    private const int MaxResolveAttempts = 3;

    private readonly ModelManager _models;

    /// <summary>Creates the service over <paramref name="models"/>.</summary>
    public InferenceService(ModelManager models) => _models = models;

    /// <summary>The model manager behind the service.</summary>
    public ModelManager Models => _models;

    /// <summary>Runs one request. The caller keeps ownership of <paramref name="request"/> and disposes the response.</summary>
    public ValueTask<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        for (var attempt = 1; ; attempt++)
        {
            var error = _models.Resolve(request.ModelName, request.ModelVersion, out var runner);
            if (error is not null)
            {
                return ValueTask.FromResult(InferenceResult.Failed(error));
            }

            error = InferenceRequestValidator.Validate(runner!.Config, request, out var validated);
            if (error is not null)
            {
                runner.Statistics.Fail.Record(0);
                return ValueTask.FromResult(InferenceResult.Failed(error));
            }

            var pending = runner.EnqueueAsync(request, validated!, cancellationToken);
            if (!pending.IsCompleted)
            {
                return pending;
            }

            // A reload swaps the snapshot before it drains the versions it replaces, so a runner found retired here
            // was replaced between Resolve and Enqueue: resolving again finds its successor (SECURITY.md F9).
            var result = pending.Result;
            if (attempt < MaxResolveAttempts && result.Error is not null && runner.IsRetired)
            {
                continue;
            }

            return ValueTask.FromResult(result);
        }
    }

    /// <summary>Finds a ready model version (the newest when <paramref name="version"/> is empty).</summary>
    public InferenceError? TryGetModel(string name, string? version, out ModelVersionInfo? info)
    {
        ArgumentNullException.ThrowIfNull(name);
        info = null;
        var error = _models.Resolve(name, version, out var runner);
        if (error is not null)
        {
            return error;
        }

        info = Describe(_models.Snapshot(name)!, runner!);
        return null;
    }

    /// <summary>Statistics of one model version, all versions of one model, or every model (Triton's statistics extension).</summary>
    public InferenceError? Statistics(string? name, string? version, out IReadOnlyList<ModelVersionInfo> result)
    {
        var list = new List<ModelVersionInfo>();
        result = list;
        if (string.IsNullOrEmpty(name))
        {
            foreach (var snapshot in _models.Snapshots())
            {
                foreach (var runner in snapshot.Runners)
                {
                    list.Add(Describe(snapshot, runner));
                }
            }

            list.Sort((a, b) => string.CompareOrdinal(a.Config.Name + "/" + a.Version, b.Config.Name + "/" + b.Version));
            return null;
        }

        if (!string.IsNullOrEmpty(version))
        {
            var error = TryGetModel(name, version, out var info);
            if (info is not null)
            {
                list.Add(info);
            }

            return error;
        }

        var found = _models.Resolve(name, null, out _);
        if (found is not null)
        {
            return found;
        }

        var model = _models.Snapshot(name)!;
        foreach (var runner in model.Runners)
        {
            list.Add(Describe(model, runner));
        }

        return null;
    }

    private static ModelVersionInfo Describe(ModelSnapshot snapshot, ModelVersionRunner runner)
    {
        var versions = new List<string>();
        foreach (var ready in snapshot.Runners)
        {
            versions.Add(ready.VersionText);
        }

        return new ModelVersionInfo(runner.Config, runner.VersionText, versions, runner.Statistics, runner.QueuedRequests, runner.ExecutingRequests);
    }
}
