using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Turbine.Client;
using Turbine.Tests;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>Shadow traffic: compared off the client's path; a failing or stuck shadow never reaches the client.</summary>
public sealed class ShadowTests : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly FolderServer _server = new();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_shadow_is_compared_with_the_primary_and_reported()
    {
        _server.Folder.Add("primary", SampleModels.Mlp(seed: 1)).Add("same", SampleModels.Mlp(seed: 1)).Add("other", SampleModels.Mlp(seed: 2));
        await _server.StartAsync();
        await PutRouteAsync("""{"variants":[{"model":"primary"}],"shadow":{"model":"same","share":1,"max_cpu":1}}""");

        await SendAsync(40);
        var report = await WaitForComparedAsync(40);

        Assert.Equal(40, report.GetProperty("exact_matches").GetInt64());
        Assert.Equal(0, report.GetProperty("max_abs_diff").GetDouble());
        Assert.Equal(1, report.GetProperty("top1_agreement").GetDouble());
        using (var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.Server.MetricsPort}/") })
        {
            var text = await metrics.GetStringAsync("metrics");
            Assert.Contains("turbine_shadow_requests_total{route=\"checkout\",outcome=\"top1_agreed\"} 40", text, StringComparison.Ordinal);
            Assert.Contains("turbine_shadow_abs_diff{route=\"checkout\",stat=\"max\"} 0", text, StringComparison.Ordinal);
            Assert.Contains("turbine_shadow_latency_seconds{route=\"checkout\",side=\"shadow\"} ", text, StringComparison.Ordinal);
            Assert.DoesNotContain("turbine_shadow_latency_seconds{route=\"checkout\",side=\"shadow\"} 0\n", text, StringComparison.Ordinal);
        }

        await PutRouteAsync("""{"variants":[{"model":"primary"}],"shadow":{"model":"other","share":1,"max_cpu":1}}""");
        await SendAsync(40);
        report = await WaitForComparedAsync(40);
        Assert.Equal(0, report.GetProperty("exact_matches").GetInt64());
        Assert.True(report.GetProperty("max_abs_diff").GetDouble() > 0);
        Assert.InRange(report.GetProperty("top1_agreement").GetDouble(), 0, 1);
        Assert.Contains("shadow other (100", await CliProcess.RunAsync("routes", "report", "checkout", "--url", _server.Http.BaseAddress!.ToString()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stuck_shadow_is_dropped_and_a_failing_one_counted_while_every_client_is_answered_fast()
    {
        var backend = new GatedBackend { HeldModels = ["stuck"] };
        backend.Gate.Reset();
        _server.Folder.Add("primary", SampleModels.Mlp()).Add("stuck", SampleModels.Mlp()).Add("wrong", SampleModels.AddSub(DataType.Int32, 4));
        await _server.StartAsync(backend: backend);
        try
        {
            await PutRouteAsync("""{"variants":[{"model":"primary"}],"shadow":{"model":"stuck","share":1,"max_cpu":1}}""");
            var slowest = await SendAsync(200);
            var report = await ReportAsync();

            // Every client was answered while the shadow is still held: had one waited on it, it would wait forever. The
            // bound only guards against a slow path; it is loose because the first requests of a busy CI run pay for JIT.
            Assert.False(backend.Gate.IsSet);
            Assert.True(slowest < TimeSpan.FromSeconds(5), $"slowest client request took {slowest}");
            Assert.True(report.GetProperty("dropped").GetInt64() >= 200 - 64 - 1, report.ToString());

            await PutRouteAsync("""{"variants":[{"model":"primary"}],"shadow":{"model":"wrong","share":1,"max_cpu":1}}""");
            await SendAsync(20);
            var failed = Stopwatch.StartNew();
            while ((await ReportAsync()).GetProperty("failed").GetInt64() < 20)
            {
                Assert.True(failed.Elapsed < Patience, "the failing shadow was never counted");
                await Task.Delay(20); // the mirror runs in the background; the report is the only window onto it
            }
        }
        finally
        {
            backend.Gate.Set();
        }
    }

    private async Task PutRouteAsync(string json)
    {
        using var response = await _server.Http.PutAsync("v2/routes/checkout", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Sends requests through the route and returns the slowest client latency.</summary>
    private async Task<TimeSpan> SendAsync(int count)
    {
        var client = new TurbineHttpClient(_server.Http);
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < count; i++)
        {
            using var request = new InferenceRequest { ModelName = "checkout" };
            request.Inputs.Add(Tensor.FromArray<float>("features", [1, 4], [i, 1, 2, 3]));
            var clock = Stopwatch.StartNew();
            using var response = await client.InferAsync(request);
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
        }

        return slowest;
    }

    private async Task<JsonElement> ReportAsync()
    {
        var json = await _server.Http.GetStringAsync("v2/routes/checkout/report");
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("shadow").Clone();
    }

    private async Task<JsonElement> WaitForComparedAsync(int count)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var report = await ReportAsync();
            if (report.GetProperty("compared").GetInt64() >= count)
            {
                return report;
            }

            Assert.True(clock.Elapsed < Patience, $"only {report.GetProperty("compared")} of {count} shadow requests were compared");
            await Task.Delay(20); // the mirror runs in the background; the report is the only window onto it
        }
    }
}
