using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Traffic;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Traffic.Tests;

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

        _models = new ModelManager(new ModelRepository(_files.Root), BackendRegistry.Of(_backend), _time, NullLogger<ModelManager>.Instance);
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
        _routes.TryGet("r", out var route);
        Assert.Equal(Polly.CircuitBreaker.CircuitState.Open, route.Circuit(0));

        _backend.ThrowingModels.Clear();
        _time.Advance(TimeSpan.FromSeconds(6)); // past the break: the next call is a probe
        Assert.Equal("flaky", await ServedByAsync());
        Assert.Equal("flaky", await ServedByAsync());
        Assert.Equal(4, _backend.RunsByModel["flaky"]);
        Assert.Equal(Polly.CircuitBreaker.CircuitState.Closed, route.Circuit(0));
    }

    [Fact]
    public async Task When_every_fallback_fails_the_fixed_default_response_answers()
    {
        await _models.LoadAllAsync(CancellationToken.None);
        var json = """
            {"variants":[{"model":"flaky"}],
             "resilience":{"fallback":[{"model":"flaky","version":"1"}],
                           "default_response":{"outputs":[{"name":"OUTPUT0","datatype":"INT32","shape":[1,4],"data":[0,0,0,-1]},
                                                          {"name":"reason","datatype":"BYTES","shape":[1],"data":["degraded"]}]}}}
            """;
        Assert.Null(RouteJson.Read(System.Text.Encoding.UTF8.GetBytes(json), "r", 16, out var definition));
        _routes.Set(definition!);
        _backend.ThrowingModels.Add("flaky");

        var result = await InferWhileTheClockRunsAsync();

        using var response = result.Response!;
        Assert.Equal("fallback:default", response.Parameters![InferenceService.VariantParameter]);
        Assert.Equal([0, 0, 0, -1], response.Outputs[0].ToArray<int>());
        Assert.Equal([1L, 4L], response.Outputs[0].Shape);
        Assert.Equal("degraded", System.Text.Encoding.UTF8.GetString(response.Outputs[1].Data.Span[4..]));
        Assert.Equal(2, _backend.RunsByModel["flaky"]); // the variant, then the model fallback, then the fixed answer

        using var written = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(written))
        {
            RouteJson.Write(writer, definition!);
        }

        Assert.Contains("\"default_response\":{\"outputs\":[{\"name\":\"OUTPUT0\",\"datatype\":\"INT32\",\"shape\":[1,4],\"data\":[0,0,0,-1]}", System.Text.Encoding.UTF8.GetString(written.ToArray()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"outputs":[]}""")]
    [InlineData("""{"outputs":[{"name":"o","datatype":"FP32","shape":[2],"data":[1]}]}""")]
    [InlineData("""{"outputs":[{"name":"o","datatype":"INT32","shape":[1],"data":[1.5]}]}""")]
    [InlineData("""{"outputs":[{"name":"o","datatype":"NOPE","shape":[1],"data":[1]}]}""")]
    [InlineData("""{"outputs":[{"name":"","datatype":"FP32","shape":[1],"data":[1]}]}""")]
    public void A_default_response_that_does_not_add_up_is_refused(string defaultResponse)
    {
        var json = $$$"""{"variants":[{"model":"flaky"}],"resilience":{"default_response":{{{defaultResponse}}}}}""";
        Assert.Contains("'default_response' needs", RouteJson.Read(System.Text.Encoding.UTF8.GetBytes(json), "r", 16, out _)!.Message, StringComparison.Ordinal);
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

    [Fact]
    public async Task A_slow_variant_is_hedged_to_the_hedge_target_which_answers_while_the_variants_run_goes_on_with_the_inputs_it_had()
    {
        _backend.Gate.Reset();
        await _models.LoadAllAsync(CancellationToken.None);
        _routes.Set(Route("slow", new RouteResilience(0, 0, 0, null, [], Hedge: new RouteHedge(new RouteVariant("steady", null, 0), 95, 50))));
        using var request = AddSubRequests.Create("r");
        var originals = request.Inputs.ToArray();

        var result = await _inference.InferAsync(request, CancellationToken.None); // the variant is held at the gate: only the hedge can answer

        using (var response = result.Response!)
        {
            Assert.Equal("hedge:steady", response.Parameters![InferenceService.VariantParameter]);
            Assert.Equal([2, 3, 4, 5], response.Outputs.Single(o => o.Name == "OUTPUT0").ToArray<int>());
        }

        _routes.TryGet("r", out var route);
        Assert.Equal((1L, 1L), (route.Hedging!.Hedges, route.Hedging.Wins));
        Assert.DoesNotContain(request.Inputs, originals.Contains); // the held run keeps the tensors it reads; the request has the hedge's
        Assert.Equal([1, 2, 3, 4], request.Inputs[0].ToArray<int>());
        _backend.Gate.Set();
        Assert.True(await _backend.Exited.WaitAsync(TimeSpan.FromSeconds(30))); // the hedge's run
        Assert.True(await _backend.Exited.WaitAsync(TimeSpan.FromSeconds(30))); // the variant's, released: it ends on the tensors it had
    }

    [Fact]
    public async Task A_variant_that_answers_within_the_wait_is_not_hedged()
    {
        await _models.LoadAllAsync(CancellationToken.None);
        _routes.Set(Route("steady", new RouteResilience(0, 0, 0, null, [], Hedge: new RouteHedge(new RouteVariant("slow", null, 0), 99, 60_000))));

        Assert.Equal("steady", await ServedByAsync());

        _routes.TryGet("r", out var route);
        Assert.Equal((0L, 0L), (route.Hedging!.Hedges, route.Hedging.Wins));
        Assert.False(_backend.RunsByModel.ContainsKey("slow"));
    }

    [Theory]
    [InlineData("""{"model":"steady","after_percentile":99,"min_ms":25}""", null)]
    [InlineData("""{"model":"steady","after_percentile":10}""", "'resilience.hedge' needs")]
    [InlineData("""{"model":"steady","min_ms":0}""", "'resilience.hedge' needs")]
    [InlineData("""{"after_percentile":95}""", "'resilience.hedge' needs")]
    public void A_hedge_reads_back_as_written_and_one_out_of_range_is_refused(string hedge, string? error)
    {
        var json = $$$"""{"variants":[{"model":"slow"}],"resilience":{"hedge":{{{hedge}}}}}""";

        var refused = RouteJson.Read(System.Text.Encoding.UTF8.GetBytes(json), "r", 16, out var definition);

        if (error is not null)
        {
            Assert.Contains(error, refused!.Message, StringComparison.Ordinal);
            return;
        }

        Assert.Null(refused);
        Assert.Equal(new RouteHedge(new RouteVariant("steady", null, 0), 99, 25), definition!.Resilience!.Hedge);
        using var written = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(written))
        {
            RouteJson.Write(writer, definition);
        }

        Assert.Contains("\"hedge\":{\"model\":\"steady\",\"after_percentile\":99,\"min_ms\":25}", System.Text.Encoding.UTF8.GetString(written.ToArray()), StringComparison.Ordinal);
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
