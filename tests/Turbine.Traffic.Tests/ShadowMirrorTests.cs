using Microsoft.Extensions.Logging.Abstractions;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Traffic.Tests;

/// <summary>The shadow mirror of a route: its drain task lives exactly as long as the route it belongs to.</summary>
public sealed class ShadowMirrorTests : IAsyncDisposable
{
    private readonly TestRepository _files = new();
    private readonly ModelManager _models;
    private readonly RouteTable _routes = new(null, cpuUtilization: () => 0);
    private readonly InferenceService _inference;

    public ShadowMirrorTests()
    {
        _files.Add("model", SampleModels.AddSub(DataType.Int32, 4));
        _models = new ModelManager(new ModelRepository(_files.Root), BackendRegistry.Of(new OnnxBackend()), TimeProvider.System, NullLogger<ModelManager>.Instance);
        _inference = new InferenceService(_models, _routes);
    }

    public async ValueTask DisposeAsync()
    {
        await _routes.DisposeAsync();
        await _models.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task Replacing_a_route_stops_its_shadow_mirror_instead_of_stranding_it()
    {
        await _models.LoadAllAsync(CancellationToken.None);
        var route = new RouteDefinition("front", [new RouteVariant("model", null, 100)], Shadow: new ShadowTarget("model", null, 1.0));
        _routes.Set(route);
        Assert.True(_routes.TryGet("front", out var first));
        await InferAsync(); // the first mirror starts the route's drain task
        Assert.False(first.Mirror.Drain.IsCompleted);

        _routes.Set(route with { });

        await first.Mirror.Drain.WaitAsync(TimeSpan.FromSeconds(30)); // before the fix it waited forever on a queue nobody writes to
        Assert.True(_routes.TryGet("front", out var second));
        await InferAsync();
        await _routes.DisposeAsync();
        await second.Mirror.Drain.WaitAsync(TimeSpan.FromSeconds(30)); // and disposing the table stops every mirror
    }

    private async Task InferAsync()
    {
        using var request = AddSubRequests.Create("front");
        var result = await _inference.InferAsync(request, CancellationToken.None);
        Assert.Null(result.Error);
        result.Response!.Dispose();
    }
}
