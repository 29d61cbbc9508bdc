using System.Globalization;
using System.Text.Json;
using Turbine.Cli.Bench;
using Turbine.Cli.Commands;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary><c>turbine bench</c> against the real server, with windows short enough for a test.</summary>
[Collection(ServerCollection.Name)]
public sealed class BenchCommandTests(ServerFixture fixture) : IDisposable
{
    private readonly TestRepository _output = new();

    public void Dispose() => _output.Dispose();

    [Theory]
    [InlineData("http", "binary", "rest-binary")]
    [InlineData("http", "json", "rest-json")]
    [InlineData("grpc", "binary", "grpc")]
    public async Task A_closed_loop_sweep_reports_every_level_as_csv_json_and_a_chart(string protocol, string format, string label)
    {
        var url = protocol == "grpc" ? fixture.GrpcAddress : fixture.HttpAddress;

        var exitCode = await RunAsync("simple", "-p", protocol, "-u", url.ToString(), "--format", format, "-c", "1,4", "--window", "0.3", "--warmup", "0.1", "--max-windows", "3",
            "--csv", Path("r.csv"), "--json", Path("r.json"), "--chart", Path("r.svg"));

        Assert.Equal(0, exitCode);
        var rows = File.ReadAllLines(Path("r.csv"));
        Assert.StartsWith("protocol,mode,load,throughput_rps,p50_ms", rows[0], StringComparison.Ordinal);
        Assert.Equal(3, rows.Length);
        using var json = JsonDocument.Parse(File.ReadAllText(Path("r.json")));
        Assert.Equal([1.0, 4.0], json.RootElement.EnumerateArray().Select(level => level.GetProperty("load").GetDouble()));
        foreach (var level in json.RootElement.EnumerateArray())
        {
            Assert.Equal(label, level.GetProperty("protocol").GetString());
            Assert.True(level.GetProperty("throughput_rps").GetDouble() > 0);
            Assert.Equal(0, level.GetProperty("errors").GetInt64());
            Assert.True(level.GetProperty("p99_ms").GetDouble() >= level.GetProperty("p50_ms").GetDouble());
            Assert.True(level.GetProperty("server_compute_us").GetDouble() > 0); // the server-side split, from the statistics endpoint
            Assert.True(level.GetProperty("rows_per_execution").GetDouble() >= 1);
        }

        var svg = File.ReadAllText(Path("r.svg"));
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Equal(2, svg.Split("<polyline").Length - 1); // p50 and p99
    }

    [Fact]
    public async Task An_open_loop_run_offers_the_requested_rate()
    {
        var exitCode = await RunAsync("simple", "-u", fixture.HttpAddress.ToString(), "-r", "100", "--arrivals", "constant", "--window", "0.5", "--warmup", "0.1",
            "--max-windows", "3", "--json", Path("open.json"));

        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(File.ReadAllText(Path("open.json")));
        var level = json.RootElement[0];
        Assert.Equal("rate", level.GetProperty("mode").GetString());
        Assert.InRange(level.GetProperty("throughput_rps").GetDouble(), 80, 120);
    }

    [Fact]
    public async Task Bad_arguments_exit_with_2_and_say_what_is_wrong()
    {
        Assert.Equal(2, await RunAsync("simple", "-u", fixture.HttpAddress.ToString(), "-c", "4,zero"));
        Assert.Equal(2, await RunAsync("simple", "-u", fixture.HttpAddress.ToString(), "--format", "xml"));
    }

    [Fact]
    public void Three_windows_are_stable_only_when_their_throughputs_agree_within_the_tolerance()
    {
        static WindowResult Window(double throughput) => new(throughput, 1, 1, 1, 1, 100, 0);

        Assert.False(WindowResult.LastThreeAgree([Window(100), Window(105)], 0.10));
        Assert.True(WindowResult.LastThreeAgree([Window(50), Window(100), Window(105), Window(109)], 0.10));
        Assert.False(WindowResult.LastThreeAgree([Window(100), Window(105), Window(111)], 0.10));
    }

    [Fact]
    public void Percentiles_use_the_nearest_rank()
    {
        var ticksPerMs = System.Diagnostics.Stopwatch.Frequency / 1000;
        var latencies = Enumerable.Range(1, 100).Select(ms => ms * ticksPerMs).Reverse().ToList();

        var window = WindowResult.From(latencies, seconds: 2, errors: 3);

        Assert.Equal((50.0, 90.0, 95.0, 99.0), (window.P50Ms, window.P90Ms, window.P95Ms, window.P99Ms));
        Assert.Equal(50, window.Throughput);
        Assert.Equal(3, window.Errors);
    }

    [Fact]
    public async Task Failed_calls_are_counted_with_their_own_latency()
    {
        var calls = 0;

        var window = await LoadGenerator.ClosedLoopAsync(2, TimeSpan.FromMilliseconds(200), async _ =>
        {
            await Task.Yield();
            if (Interlocked.Increment(ref calls) % 2 == 0)
            {
                throw new InvalidOperationException("refused");
            }
        });

        Assert.True(window.Errors > 0);
        Assert.InRange(window.Requests, window.Errors - 2, window.Errors + 2);
        Assert.True(double.IsFinite(window.ErrorP99Ms));
    }

    [Fact]
    public void Poisson_gaps_average_one_over_the_rate()
    {
        var random = new Random(5);
        var mean = Enumerable.Range(0, 20_000).Average(_ => LoadGenerator.Gap(200, Arrivals.Poisson, random));

        Assert.InRange(mean, 0.0049, 0.0051);
        Assert.Equal(0.005, LoadGenerator.Gap(200, Arrivals.Constant, random));
    }

    private string Path(string name) => System.IO.Path.Combine(_output.Root, name);

    private static Task<int> RunAsync(params string[] args) => BenchCommand.Create().Parse(args).InvokeAsync();
}
