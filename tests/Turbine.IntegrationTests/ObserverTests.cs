using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>The inference tap on a real server: observers see copies of completed requests, and a slow one never slows a request.</summary>
public sealed class ObserverTests : IAsyncDisposable
{
    private readonly FolderServer _server = new();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Observers_see_inputs_outputs_model_version_route_and_variant_of_completed_requests()
    {
        var observer = new RecordingObserver();
        await StartAsync(observer, sampleRate: 1, capacity: 64);
        using (var put = await _server.Http.PutAsync("v2/routes/checkout", new StringContent("""{"variants":[{"model":"simple"}]}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using (var direct = await _server.Http.PostAsync("v2/models/simple/infer", AddSubRequests.Content()))
        using (var routed = await _server.Http.PostAsync("v2/models/checkout/infer", AddSubRequests.Content()))
        using (var failed = await _server.Http.PostAsync("v2/models/simple/versions/9/infer", AddSubRequests.Content()))
        {
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.NotFound), (direct.StatusCode, routed.StatusCode, failed.StatusCode));
        }

        var seen = await observer.TakeAsync(3);
        var first = seen.Single(o => o.Route is null && o.Error is null);
        Assert.Equal(("simple", "1"), (first.Model, first.Version));
        Assert.Equal([1, 2, 3, 4], first.Inputs[0]);
        Assert.Equal([2, 3, 4, 5], first.Outputs[0]); // OUTPUT0 = INPUT0 + INPUT1 (all ones)
        var viaRoute = seen.Single(o => o.Route is not null);
        Assert.Equal(("simple", "checkout", "simple"), (viaRoute.Model, viaRoute.Route, viaRoute.Variant));
        Assert.Equal(StatusCode.NotFound, seen.Single(o => o.Error is not null).Error);
        Assert.Empty(seen.Single(o => o.Error is not null).Outputs);
    }

    [Fact]
    public async Task A_slow_observer_loses_observations_and_counts_them_but_never_slows_a_request()
    {
        var observer = new RecordingObserver();
        observer.Gate.Reset(); // the observer sits on its first observation until the end
        await StartAsync(observer, sampleRate: 1, capacity: 4);

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 40; i++)
        {
            using var response = await _server.Http.PostAsync("v2/models/simple/infer", AddSubRequests.Content());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var elapsed = clock.Elapsed;
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.Server.MetricsPort}/") };
        var text = await metrics.GetStringAsync("metrics");
        var dropped = long.Parse(Line(text, "turbine_observer_dropped_total ").Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var sampled = long.Parse(Line(text, "turbine_observer_observations_total ").Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(40, dropped + sampled);
        Assert.InRange(sampled, 4, 5); // the queue's 4, and the one the observer holds
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"40 requests took {elapsed} behind a stuck observer");
        observer.Gate.Set();
        Assert.Equal((int)sampled, (await observer.TakeAsync((int)sampled)).Count);
    }

    private async Task StartAsync(IInferenceObserver observer, double sampleRate, int capacity)
    {
        _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        await _server.StartAsync(
            options => (options.Observer.SampleRate, options.Observer.Capacity) = (sampleRate, capacity),
            services: services => services.AddSingleton(observer));
    }

    private static string Line(string text, string prefix) => text.Split('\n').Single(line => line.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>Keeps what it saw as plain values (the tensors go back after each call) and signals each one.</summary>
    private sealed class RecordingObserver : IInferenceObserver
    {
        private readonly ConcurrentQueue<Seen> _seen = new();
        private readonly SemaphoreSlim _arrived = new(0);

        public ManualResetEventSlim Gate { get; } = new(initialState: true);

        public void Observe(ObservedInference observation)
        {
            Gate.Wait();
            _seen.Enqueue(new Seen(
                observation.Model, observation.Version, observation.Route, observation.Variant, observation.Error,
                [.. observation.Inputs.Select(t => t.ToArray<int>())], [.. observation.Outputs.Select(t => t.ToArray<int>())]));
            _arrived.Release();
        }

        public async Task<List<Seen>> TakeAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Assert.True(await _arrived.WaitAsync(TimeSpan.FromSeconds(10)), $"only {i} of {count} observations arrived");
            }

            return [.. _seen];
        }
    }

    private sealed record Seen(string Model, string? Version, string? Route, string? Variant, StatusCode? Error, List<int[]> Inputs, List<int[]> Outputs);
}
