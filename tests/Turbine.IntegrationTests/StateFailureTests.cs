using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Core.State;
using Turbine.Onnx;
using Turbine.Server.Hosting;
using Turbine.Server.State;
using Turbine.Tests;
using Turbine.Traffic;
using Turbine.Traffic.Pipelines;

namespace Turbine.IntegrationTests;

/// <summary>A state directory that cannot be written never stops the host: failures are counted and retried.</summary>
public sealed class StateFailureTests
{
    [Fact]
    public async Task A_checkpoint_that_cannot_write_is_counted_and_retried_and_the_service_keeps_running()
    {
        using var files = new TestRepository();
        var folder = Path.Combine(files.Root, "routes");
        var time = new FakeTimeProvider();
        var store = new FileStateStore(folder);
        var routes = new RouteTable(store, time);
        routes.Set(new RouteDefinition("r", [new RouteVariant("a", null, 50), new RouteVariant("b", null, 50)]));
        Directory.CreateDirectory(Path.Combine(folder, "experiments", "r", "local.json")); // the figures' file cannot be written
        var health = new StateStoreHealth();
        var models = new ModelManager(new ModelRepository(files.Root), BackendRegistry.Of(new OnnxBackend()), time, NullLogger<ModelManager>.Instance);
        using var service = new StateSyncService(
            store, routes, new PipelineTable(store, time), models, health, time, Options.Create(new TurbineServerOptions()), NullLogger<StateSyncService>.Instance);
        await service.StartAsync(CancellationToken.None);

        service.Checkpoint();
        service.Checkpoint(); // what each tick does: counted, not thrown

        Assert.Equal(2, health.Failures);
        Assert.True(health.IsFailing);
        Directory.Delete(Path.Combine(folder, "experiments", "r", "local.json"));
        service.Checkpoint();
        Assert.False(health.IsFailing);
        Assert.True(File.Exists(Path.Combine(folder, "experiments", "r", "local.json")));

        File.Delete(Path.Combine(folder, "experiments", "r", "local.json"));
        Directory.CreateDirectory(Path.Combine(folder, "experiments", "r", "local.json"));
        await service.StopAsync(CancellationToken.None); // the last checkpoint fails too, and stopping still succeeds
        Assert.Equal(3, health.Failures);
        Assert.False(service.ExecuteTask!.IsFaulted);
    }
}
