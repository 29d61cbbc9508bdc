using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Core.Traffic;
using Turbine.Onnx.Graph;
using Turbine.Tests;

namespace Turbine.Core.Tests;

/// <summary>Circuit breakers, bulkheads and fallbacks of a route (Polly), on a fake clock.</summary>
public sealed class RouteResilienceTests : IAsyncDisposable
{
    private readonly TestRepository _files = new();
    private readonly GatedBackend _backend = new() { HeldModels = ["slow"] };
    private readonly FakeTimeProvider _time = new();
    private readonly ModelManager _models;
    private readonly RouteTable _routes;
    private readonly InferenceService _inference;

    public RouteResilienceTests()
    {
        foreach (var name in new[] { "flaky", "steady", "slow" })
        {
            _files.Add(name, SampleModels.AddSub(DataType.Int32, 4));
        }

        _models = new ModelManager(new ModelRepository(_files.Root), _backend, _time, NullLogger<ModelManager>.Instance);
        _routes = new RouteTable(null, _time);
        _inference = new InferenceService(_models, _routes);
    }

    public async ValueTask DisposeAsync()
    {
        _backend.Gate.Set();
        await _models.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task An_open_circuit_sends_requests_to_the_fallback_and_a_probe_closes_it_again()
    {
        await _models.LoadAllAsync(CancellationToken.None);
        _routes.Set(Route("flaky", new RouteResilience(0, 0, 0, new CircuitBreakerSettings(0.5, 2, 10, 5), [new RouteVariant("steady", null, 0)])));
        _backend.ThrowingModels.Add("flaky");

        var served = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            served.Add(await ServedByAsync());
        }

        Assert.All(served, variant => Assert.Equal("fallback:steady", variant));
        Assert.Equal(2, _backend.RunsByModel["flaky"]); // the circuit opened after the minimum throughput of 2 failures

        _backend.ThrowingModels.Clear();
        _time.Advance(TimeSpan.FromSeconds(6)); // past the break: the next call is a probe
        Assert.Equal("flaky", await ServedByAsync());
        Assert.Equal("flaky", await ServedByAsync());
        Assert.Equal(4, _backend.RunsByModel["flaky"]);
    }

    [Fact]
    public async Task A_full_bulkhead_sends_the_next_request_to_the_fallback_at_once()
    {
        _backend.Gate.Reset();
        await _models.LoadAllAsync(CancellationToken.None);
        _routes.Set(Route("slow", new RouteResilience(0, 0, 1, null, [new RouteVariant("steady", null, 0)])));
        var holder = Task.Run(ServedByAsync);
        Assert.True(await _backend.Entered.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal("fallback:steady", await ServedByAsync());

        _backend.Gate.Set();
        Assert.Equal("slow", await holder);
    }

    [Fact]
    public async Task Without_a_fallback_the_variants_failure_is_the_answer()
    {
        await _models.LoadAllAsync(CancellationToken.None);
        _routes.Set(Route("flaky", new RouteResilience(0, 2, 0, null, [])));
        _backend.ThrowingModels.Add("flaky");

        var result = await InferWhileTheClockRunsAsync();

        Assert.Equal(StatusCode.Internal, result.Error!.Code);
        Assert.Equal(3, _backend.RunsByModel["flaky"]); // the first attempt and two retries
    }

    private static RouteDefinition Route(string model, RouteResilience resilience) =>
        new("r", [new RouteVariant(model, null, 1)], Resilience: resilience);

    private async Task<string> ServedByAsync()
    {
        var result = await InferWhileTheClockRunsAsync();
        Assert.Null(result.Error);
        using var response = result.Response!;
        return (string)response.Parameters![InferenceService.VariantParameter];
    }

    /// <summary>Runs one request through the route, moving the fake clock so that retry backoffs elapse.</summary>
    private async Task<InferenceResult> InferWhileTheClockRunsAsync()
    {
        using var request = AddSubRequests.Create("r");
        var pending = _inference.InferAsync(request, CancellationToken.None).AsTask();
        while (!pending.IsCompleted)
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.WhenAny(pending, Task.Delay(5)); // a real pause, so the work the clock released can run
        }

        return await pending;
    }
}
