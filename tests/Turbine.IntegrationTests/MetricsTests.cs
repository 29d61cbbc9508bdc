using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Turbine.IntegrationTests;

/// <summary>The Prometheus endpoint: valid for promtool, moving with traffic, and in agreement with the statistics endpoint.</summary>
[Collection(ServerCollection.Name)]
public sealed partial class MetricsTests(ServerFixture fixture) : IDisposable
{
    private readonly HttpClient _metrics = new() { BaseAddress = new Uri($"http://127.0.0.1:{fixture.Server.MetricsPort}/") };

    public void Dispose() => _metrics.Dispose();

    [Fact]
    public async Task The_metrics_text_passes_promtool_check_metrics()
    {
        await InferSimpleAsync(3);
        var text = await _metrics.GetStringAsync("metrics");

        var (exitCode, output) = await PromtoolCheckAsync(text);

        Assert.True(exitCode == 0, $"promtool check metrics failed ({exitCode}):\n{output}");
        Assert.Equal(string.Empty, output.Trim());
    }

    [Fact]
    public async Task Counters_and_histograms_move_with_requests_and_agree_with_the_statistics_endpoint()
    {
        var before = Parse(await _metrics.GetStringAsync("metrics"));

        await InferSimpleAsync(5);

        var after = Parse(await _metrics.GetStringAsync("metrics"));
        using var client = fixture.RestClient();
        var statistics = (await client.GetModelStatisticsAsync("simple", "1")).Single();
        const string Simple = "{model=\"simple\",version=\"1\"}";
        Assert.Equal(5, after["turbine_inference_request_success_total" + Simple] - before["turbine_inference_request_success_total" + Simple]);
        Assert.Equal(5, after["turbine_inference_request_duration_seconds_count" + Simple] - before["turbine_inference_request_duration_seconds_count" + Simple]);
        Assert.Equal(statistics.SuccessCount, after["turbine_inference_request_success_total" + Simple]);
        Assert.Equal(statistics.InferenceCount, after["turbine_inference_count_total" + Simple]);
        Assert.Equal(statistics.ExecutionCount, after["turbine_inference_batch_size_count" + Simple]);
        Assert.Equal(statistics.SuccessNanoseconds / 1e9, after["turbine_inference_request_duration_seconds_sum" + Simple], 9);
        Assert.Equal(statistics.QueueNanoseconds / 1e9, after["turbine_inference_queue_duration_seconds_sum" + Simple], 9);
        Assert.Equal(0, after["turbine_inference_pending_requests" + Simple]);
        Assert.True(after["process_resident_memory_bytes"] > 0);
        Assert.True(after["process_cpu_seconds_total"] > 0);
        Assert.True(after["turbine_transport_pool_bytes"] > 0, "Kestrel's sockets read into Turbine's blocks, which come back to its pool");
    }

    private async Task InferSimpleAsync(int count)
    {
        using var client = fixture.RestClient();
        for (var i = 0; i < count; i++)
        {
            using var request = RestEndpointTests.SimpleRequest();
            using var response = await client.InferAsync(request);
        }
    }

    /// <summary>Series name with labels -> value, for every sample line.</summary>
    private static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>();
        foreach (Match match in SampleLine().Matches(text))
        {
            samples[match.Groups["series"].Value] = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return samples;
    }

    [GeneratedRegex(@"^(?<series>[a-z_]+(\{[^}]*\})?) (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex SampleLine();

    /// <summary>Runs promtool from the Debian package prometheus, which .ci/run installs.</summary>
    internal static async Task<(int ExitCode, string Output)> PromtoolCheckAsync(string text)
    {
        var start = new ProcessStartInfo("promtool", ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        Process promtool;
        try
        {
            promtool = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("promtool is missing: install the Debian package 'prometheus' (.ci/run does)", e);
        }

        using (promtool)
        {
            await promtool.StandardInput.WriteAsync(text);
            promtool.StandardInput.Close();
            var output = promtool.StandardOutput.ReadToEndAsync();
            var errors = promtool.StandardError.ReadToEndAsync();
            await promtool.WaitForExitAsync();
            return (promtool.ExitCode, await output + await errors);
        }
    }
}
