using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Traffic.Pipelines;
using Turbine.Traffic;

namespace Turbine.Server.Http;

/// <summary>
/// What a route or pipeline must satisfy against the server it joins, wherever it comes from (the API, the server
/// configuration): a name no model, route or pipeline has, and targets that exist. Its own shape was checked when
/// its JSON was read.
/// </summary>
internal sealed class TrafficValidator(ModelManager models, RouteTable routes, PipelineTable pipelines, InferenceService inference)
{
    /// <summary>A route sends to models or pipelines; its ready variants, fallbacks and hedge must share their tensors.</summary>
    public InferenceError? Check(RouteDefinition route)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (IsModel(route.Name) || pipelines.TryGet(route.Name, out _))
        {
            return InferenceError.Invalid($"'{route.Name}' is a model or a pipeline; a route needs a name of its own");
        }

        var targets = route.Variants.Select(v => (Role: "variant", v.Model))
            .Concat(route.Resilience?.Fallbacks.Select(f => (Role: "fallback", f.Model)) ?? [])
            .Concat(route.Resilience?.Hedge is { } hedge ? [(Role: "hedge", hedge.Target.Model)] : [])
            .Concat(route.Shadow is { } shadow ? [(Role: "shadow", shadow.Model)] : []);
        foreach (var (role, model) in targets)
        {
            if (!IsModel(model) && !pipelines.TryGet(model, out _))
            {
                return InferenceError.Invalid($"{role} model '{model}' is neither in the repository nor a pipeline");
            }
        }

        return inference.SignatureMismatch(route) is { } mismatch ? InferenceError.Invalid(mismatch) : null;
    }

    /// <summary>A pipeline's steps call models only (not routes or other pipelines, which could loop).</summary>
    public InferenceError? Check(PipelineDefinition pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        if (IsModel(pipeline.Name) || routes.TryGet(pipeline.Name, out _))
        {
            return InferenceError.Invalid($"'{pipeline.Name}' is a model or a route; a pipeline needs a name of its own");
        }

        var targets = pipeline.Steps.SelectMany(step => step switch
        {
            ModelStep model => [model.Target],
            SwitchStep choice => choice.Default is null ? choice.Cases.Values : choice.Cases.Values.Append(choice.Default),
            CascadeStep cascade => cascade.Stages.Select(s => s.Target),
            _ => [],
        });
        return targets.FirstOrDefault(t => !IsModel(t.Model)) is { } missing
            ? InferenceError.Invalid($"step model '{missing.Model}' is not in the repository (steps call models, not routes or pipelines)")
            : null;
    }

    private bool IsModel(string name) => models.Repository.Contains(name);
}
