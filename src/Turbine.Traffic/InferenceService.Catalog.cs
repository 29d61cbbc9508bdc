using Turbine.Traffic.Pipelines;

namespace Turbine.Traffic;

/// <summary>What the service tells about what it serves: model metadata (routes and pipelines included), statistics, the repository index.</summary>
public sealed partial class InferenceService
{
    /// <summary>
    /// Finds a ready model version (the default one when <paramref name="version"/> is empty). A route answers with its
    /// first variant that has a positive weight: its variants are expected to share inputs and outputs.
    /// </summary>
    public InferenceError? TryGetModel(string name, string? version, out ModelVersionInfo? info)
    {
        ArgumentNullException.ThrowIfNull(name);
        info = null;
        if (_routes.TryGet(name, out var route) && string.IsNullOrEmpty(version))
        {
            var primary = route.Definition.Variants.First(v => v.Weight > 0);
            (name, version) = (primary.Model, primary.Version);
        }

        if (_pipelines.TryGet(name, out var pipeline))
        {
            return DescribePipeline(pipeline, version, out info);
        }

        return _executor.TryGetModel(name, version, out info);
    }

    /// <summary>
    /// Triton's repository index: every model version, and every pipeline as version 1 of a model (as Triton lists its
    /// ensembles), READY when all the models it calls are.
    /// </summary>
    public IReadOnlyList<RepositoryIndexEntry> Index(bool readyOnly)
    {
        var entries = _executor.Index(readyOnly);
        foreach (var pipeline in _pipelines.All)
        {
            var error = DescribePipeline(pipeline, null, out _);
            if (error is null || !readyOnly)
            {
                entries.Add(new RepositoryIndexEntry(pipeline.Definition.Name, "1", error is null ? ModelState.Ready : ModelState.Unavailable, error?.Message ?? ""));
            }
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return entries;
    }

    /// <summary>
    /// Why a route's variants (and fallbacks and hedge) cannot stand for one public model: two of those that are ready now
    /// differ in their inputs' or outputs' names or datatypes. Null when they agree; variants not ready are not judged.
    /// </summary>
    public string? SignatureMismatch(RouteDefinition route)
    {
        ArgumentNullException.ThrowIfNull(route);
        (string Name, string Signature)? first = null;
        foreach (var target in route.Variants.Concat(route.Resilience?.OtherTargets ?? []))
        {
            if (TryGetModel(target.Model, target.Version, out var info) is not null)
            {
                continue;
            }

            var signature = string.Join(" ", info!.Config.Inputs.Select(t => $"{t.Name}:{t.DataType.ToWireName()}")) + " -> " +
                string.Join(" ", info.Config.Outputs.Select(t => $"{t.Name}:{t.DataType.ToWireName()}"));
            first ??= (target.Name, signature);
            if (signature != first.Value.Signature)
            {
                return $"'{target.Name}' ({signature}) and '{first.Value.Name}' ({first.Value.Signature}) differ; a route's variants must take and give the same tensors";
            }
        }

        return null;
    }

    /// <summary>A pipeline as a model: ready when every model it calls is, with the signature those models give it.</summary>
    private InferenceError? DescribePipeline(CompiledPipeline pipeline, string? version, out ModelVersionInfo? info)
    {
        info = null;
        if (!string.IsNullOrEmpty(version) && version != "1")
        {
            return InferenceError.NotFound($"pipeline '{pipeline.Definition.Name}' has only version 1");
        }

        var config = PipelineSignature.Describe(pipeline.Definition, target => _executor.Models.Resolve(target.Model, target.Version, out var runner) is null ? runner!.Config : null);
        if (config is null)
        {
            return InferenceError.Unavailable($"pipeline '{pipeline.Definition.Name}' calls a model that is not ready");
        }

        info = new ModelVersionInfo(config, "1", ["1"], pipeline.Statistics.Requests);
        return null;
    }

    /// <summary>Statistics of one model version, all versions of one model, every model, or a pipeline (Triton's statistics extension).</summary>
    public InferenceError? Statistics(string? name, string? version, out IReadOnlyList<ModelVersionInfo> result)
    {
        if (string.IsNullOrEmpty(name) || !_pipelines.TryGet(name, out _))
        {
            return _executor.Statistics(name, version, out result);
        }

        var error = TryGetModel(name, version, out var info);
        result = info is null ? [] : [info];
        return error;
    }
}
