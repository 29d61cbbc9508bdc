using Turbine.Core.Lifecycle;
using Turbine.Core.Pipelines;
using Turbine.Core.Traffic;

namespace Turbine.Server.Http;

/// <summary>The three kinds of name clients call (models, routes, pipelines), which must never collide.</summary>
internal sealed class ServedNames(ModelManager models, RouteTable routes, PipelineTable pipelines)
{
    public bool IsModelOrPipeline(string name) => models.Repository.Contains(name) || pipelines.TryGet(name, out _);

    public bool IsModel(string name) => models.Repository.Contains(name);

    public bool IsModelOrRoute(string name) => models.Repository.Contains(name) || routes.TryGet(name, out _);
}
