using System.CommandLine;
using System.Globalization;
using Turbine.Cli.Bench;
using Turbine.Client;
using Turbine.Protocols.KServe;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine bench MODEL</c>: a load generator in the spirit of Triton's perf_analyzer. Closed-loop concurrency
/// sweeps or open-loop request rates, over REST JSON, REST binary or gRPC; reports a table and optionally CSV, JSON
/// and a latency-throughput chart (SVG).
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var model = new Argument<string>("model") { Description = "Model name" };
        var version = new Option<string?>("--model-version") { Description = "Model version (default: newest ready)" };
        var format = new Option<string>("--format") { Description = "REST body format: binary (the tensor extension) or json", DefaultValueFactory = _ => "binary" };
        var concurrency = new Option<string>("--concurrency", "-c") { Description = "Closed loop: comma-separated caller counts to sweep", DefaultValueFactory = _ => "1,4,16,64" };
        var rate = new Option<string?>("--rate", "-r") { Description = "Open loop: comma-separated request rates (per second); replaces --concurrency" };
        var arrivals = new Option<Arrivals>("--arrivals") { Description = "Open-loop arrivals: poisson or constant", DefaultValueFactory = _ => Arrivals.Poisson };
        var window = new Option<double>("--window") { Description = "Seconds per measurement window", DefaultValueFactory = _ => 5 };
        var warmUp = new Option<double>("--warmup") { Description = "Seconds of warm-up before each load level", DefaultValueFactory = _ => 3 };
        var maxWindows = new Option<int>("--max-windows") { Description = "Windows per level at most, when three in a row never agree", DefaultValueFactory = _ => 10 };
        var stability = new Option<double>("--stability") { Description = "Percent within which three consecutive windows must agree", DefaultValueFactory = _ => 10 };
        var rows = new Option<int>("--rows") { Description = "Rows (batch size) per request with random inputs", DefaultValueFactory = _ => 1 };
        var inputFile = new Option<FileInfo?>("--input-file") { Description = "A KServe v2 JSON request body to send instead of random inputs" };
        var csv = new Option<FileInfo?>("--csv") { Description = "Write the results as CSV" };
        var json = new Option<FileInfo?>("--json") { Description = "Write the results as JSON" };
        var chart = new Option<FileInfo?>("--chart") { Description = "Write a latency-throughput chart (SVG)" };
        var command = new Command("bench", "Measure throughput and latency under load (closed-loop sweep or open-loop rates)")
        {
            model, version, format, concurrency, rate, arrivals, window, warmUp, maxWindows, stability, rows, inputFile, csv, json, chart,
        };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => connection.RunAsync(parse, async client =>
        {
            var settings = new BenchSettings
            {
                Model = parse.GetValue(model)!,
                Version = parse.GetValue(version),
                Protocol = Protocol(client, parse.GetValue(format)!),
                Concurrency = ParseList(parse.GetValue(concurrency)!, int.Parse, "--concurrency", c => c >= 1),
                Rates = parse.GetValue(rate) is { } rates ? ParseList(rates, double.Parse, "--rate", r => r > 0) : [],
                Arrivals = parse.GetValue(arrivals),
                Window = Seconds(parse.GetValue(window), "--window"),
                WarmUp = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp))),
                MaxWindows = Math.Max(1, parse.GetValue(maxWindows)),
                Stability = parse.GetValue(stability) / 100,
            };
            using var request = await CreateRequestAsync(client, settings, parse.GetValue(rows), parse.GetValue(inputFile), cancellationToken);
            var results = await new BenchRunner(client, settings, request, ProgressLine.ForConsole()).RunAsync(cancellationToken);

            Console.WriteLine($"{settings.Model} over {settings.Protocol}");
            BenchReport.WriteTable(Console.Out, results);
            await WriteIfAskedAsync(parse.GetValue(csv), BenchReport.ToCsv(results), cancellationToken);
            await WriteIfAskedAsync(parse.GetValue(json), BenchReport.ToJson(results), cancellationToken);
            await WriteIfAskedAsync(parse.GetValue(chart), LatencyThroughputChart.Render($"{settings.Model} over {settings.Protocol}", results), cancellationToken);
        }));
        return command;
    }

    private static string Protocol(ITurbineClient client, string format)
    {
        if (client is not TurbineHttpClient http)
        {
            return "grpc";
        }

        http.BinaryInputs = format.ToLowerInvariant() switch
        {
            "binary" => true,
            "json" => false,
            _ => throw new FormatException($"--format '{format}' is not binary or json"),
        };
        return http.BinaryInputs ? "rest-binary" : "rest-json";
    }

    private static async Task<InferenceRequest> CreateRequestAsync(ITurbineClient client, BenchSettings settings, int rows, FileInfo? file, CancellationToken cancellationToken)
    {
        if (file is not null)
        {
            var error = KServeRequestDecoder.Decode(await File.ReadAllBytesAsync(file.FullName, cancellationToken), -1, settings.Model, settings.Version, KServeLimits.Default, out var fromFile);
            return error is null ? fromFile! : throw new FormatException($"{file.Name}: {error.Message}");
        }

        var metadata = await client.GetModelMetadataAsync(settings.Model, settings.Version, cancellationToken);
        return RandomInputs.Create(metadata, settings.Version, Math.Max(1, rows), new Random(42));
    }

    private static List<T> ParseList<T>(string text, Func<string, IFormatProvider, T> parse, string option, Func<T, bool> valid)
    {
        try
        {
            var values = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => parse(v, CultureInfo.InvariantCulture)).ToList();
            return values.Count > 0 && values.All(valid) ? values : throw new FormatException();
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new FormatException($"{option} '{text}' must be a comma-separated list of positive numbers");
        }
    }

    private static TimeSpan Seconds(double seconds, string option) =>
        seconds > 0 ? TimeSpan.FromSeconds(seconds) : throw new FormatException($"{option} must be a positive number of seconds");

    private static async Task WriteIfAskedAsync(FileInfo? file, string content, CancellationToken cancellationToken)
    {
        if (file is not null)
        {
            await File.WriteAllTextAsync(file.FullName, content, cancellationToken);
            Console.Error.WriteLine($"wrote {file.FullName}");
        }
    }
}
