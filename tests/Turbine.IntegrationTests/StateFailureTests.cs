using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.State;
using Turbine.Core.Traffic;
using Turbine.Server.Hosting;
using Turbine.Tests;

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
        var routes = new RouteTable(folder, time);
        routes.Set(new RouteDefinition("r", [new RouteVariant("a", null, 50), new RouteVariant("b", null, 50)]));
        Directory.CreateDirectory(Path.Combine(folder, "experiments", "r.json")); // the figures' file cannot be written
        var health = new StateStoreHealth();
        using var service = new RouteCheckpointService(routes, health, time, NullLogger<RouteCheckpointService>.Instance);
        await service.StartAsync(CancellationToken.None);

        time.Advance(RouteCheckpointService.Interval);
        await WaitUntilAsync(() => health.Failures >= 1);
        time.Advance(RouteCheckpointService.Interval);
        await WaitUntilAsync(() => health.Failures >= 2); // retried at the next tick: the loop did not die

        Assert.True(health.IsFailing);
        Assert.False(service.ExecuteTask!.IsCompleted);
        Directory.Delete(Path.Combine(folder, "experiments", "r.json"));
        time.Advance(RouteCheckpointService.Interval);
        await WaitUntilAsync(() => !health.IsFailing);
        Assert.True(File.Exists(Path.Combine(folder, "experiments", "r.json")));
        await service.StopAsync(CancellationToken.None);
    }

    /// <summary>The checkpoint runs on the timer's callback; its outcome is a counter, so the test polls it briefly.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the checkpoint did not run");
            await Task.Yield();
        }
    }
}
