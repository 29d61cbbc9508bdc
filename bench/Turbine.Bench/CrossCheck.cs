using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Turbine.Bench;

/// <summary>
/// The same endpoints loaded by independent generators: wrk for REST (HTTP/1.1) and h2load for gRPC (HTTP/2), from
/// the Debian packages wrk and nghttp2-client. If both agree with the in-process generator, the figures are not an
/// artefact of the load generator.
/// </summary>
internal static partial class CrossCheck
{
    public static async Task<string> RunAsync(BenchModel model, Scenarios scenarios, int concurrency, TimeSpan duration)
    {
        var folder = Directory.CreateTempSubdirectory("turbine-crosscheck").FullName;
        var lua = Path.Combine(folder, "post.lua");
        await File.WriteAllTextAsync(lua, $"wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [[{scenarios.JsonBody}]]\n");
        var grpcBody = Path.Combine(folder, "request.bin");
        await File.WriteAllBytesAsync(grpcBody, GrpcFrame(scenarios.GrpcRequest));

        var rows = new List<(string Tool, string Scenario, double Rps, string P50, string P99)>();
        await using (var constant = await Scenarios.StartKestrelConstantAsync())
        {
            rows.Add(await WrkAsync("kestrel constant body", Scenarios.Address(constant) + "infer", lua, concurrency, duration));
        }

        using (var session = new InferenceSession(model.Path))
        await using (var naive = await Scenarios.StartNaiveAsync(session))
        {
            rows.Add(await WrkAsync("naive ASP.NET + InferenceSession", Scenarios.Address(naive) + "infer", lua, concurrency, duration));
        }

        await using (var turbine = await scenarios.StartTurbineAsync())
        {
            rows.Add(await WrkAsync("turbine REST (JSON)", $"http://127.0.0.1:{turbine.HttpPort}/v2/models/{model.Name}/infer", lua, concurrency, duration));
            rows.Add(await H2LoadAsync("turbine gRPC (raw)", $"http://127.0.0.1:{turbine.GrpcPort}", grpcBody, concurrency, duration));
        }

        await using (var constantGrpc = await scenarios.StartGrpcConstantAsync())
        {
            rows.Add(await H2LoadAsync("gRPC constant response", Scenarios.Address(constantGrpc).TrimEnd('/'), grpcBody, concurrency, duration));
        }

        Directory.Delete(folder, recursive: true);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"model `{model.Name}`, {concurrency} connections, {duration.TotalSeconds} s each, {Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}");
        text.AppendLine();
        text.AppendLine("| generator | scenario | req/s | p50 | p99 |");
        text.AppendLine("|---|---|---:|---:|---:|");
        foreach (var (tool, scenario, rps, p50, p99) in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {tool} | {scenario} | {rps:F0} | {p50} | {p99} |");
        }

        return text.ToString();
    }

    private static async Task<(string, string, double, string, string)> WrkAsync(string scenario, string url, string lua, int concurrency, TimeSpan duration)
    {
        await RunToolAsync("wrk", ["-t2", $"-c{concurrency}", "-d3s", "-s", lua, url]); // warm-up: JIT tiers and connection pools settle
        var output = await RunToolAsync("wrk", ["-t2", $"-c{concurrency}", $"-d{(int)duration.TotalSeconds}s", "--latency", "-s", lua, url]);
        var rps = double.Parse(WrkRate().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        return ("wrk", scenario, rps, WrkPercentile(output, "50%"), WrkPercentile(output, "99%"));
    }

    private static async Task<(string, string, double, string, string)> H2LoadAsync(string scenario, string address, string body, int concurrency, TimeSpan duration)
    {
        var output = await RunToolAsync("h2load",
        [
            "-t2", $"-c{concurrency}", "-m1", "-D", $"{(int)duration.TotalSeconds}", "--warm-up-time=2",
            "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", body, $"{address}/inference.GRPCInferenceService/ModelInfer",
        ]);
        var rps = double.Parse(H2LoadRate().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var mean = H2LoadMean().Match(output).Groups[1].Value;
        return ("h2load", scenario, rps, "mean " + mean, "-");
    }

    private static string WrkPercentile(string output, string percentile)
    {
        var match = Regex.Match(output, $@"^\s+{Regex.Escape(percentile)}\s+(\S+)", RegexOptions.Multiline | RegexOptions.NonBacktracking);
        return match.Success ? match.Groups[1].Value : "-";
    }

    /// <summary>A gRPC message on the wire: no compression flag, 4-byte big-endian length, the protobuf bytes.</summary>
    private static byte[] GrpcFrame(IMessage message)
    {
        var payload = message.ToByteArray();
        var frame = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>Runs a tool with an argument list, never a shell string (SECURITY.md A16).</summary>
    private static async Task<string> RunToolAsync(string tool, string[] arguments)
    {
        Console.Error.WriteLine($"  {tool} {string.Join(' ', arguments)}");
        var start = new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {tool}");
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{tool} failed ({process.ExitCode}); install the Debian packages wrk and nghttp2-client: {errors}{output}");
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex WrkRate();

    [GeneratedRegex(@"finished in [0-9.]+\w+, ([0-9.]+) req/s", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex H2LoadRate();

    [GeneratedRegex(@"time for request:\s+\S+\s+\S+\s+(\S+)", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex H2LoadMean();
}
