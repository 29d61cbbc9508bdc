using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Onnx;
using Turbine.Protocols.KServe;

namespace Turbine.Cli.Validation;

/// <summary>
/// Checks one model folder the way the server would serve it, without a server: the config against itself and the
/// model file, the load (session creation and warm-up samples), golden cases from a JSONL file, and the latency at
/// chosen batch sizes against a budget. Each check that runs adds a line; a failed config or load stops the rest.
/// </summary>
internal sealed class ModelValidator(ValidationOptions options)
{
    public async Task<List<ValidationResult>> RunAsync(string modelFolder, CancellationToken cancellationToken)
    {
        var results = new List<ValidationResult>();
        var folder = Path.GetFullPath(modelFolder).TrimEnd(Path.DirectorySeparatorChar);
        var name = Path.GetFileName(folder);
        var repository = new ModelRepository(Path.GetDirectoryName(folder)!);
        var backends = BackendRegistry.Of(new OnnxBackend());
        var definition = repository.Read(name, backends);
        if (definition.Config is not { } config)
        {
            results.Add(new ValidationResult(ValidationCheck.Config, false, string.Join("; ", definition.Errors)));
            return results;
        }

        results.Add(new ValidationResult(ValidationCheck.Config, true,
            $"model '{name}': {config.Inputs.Count} inputs, {config.Outputs.Count} outputs, max_batch_size {config.MaxBatchSize}, versions {string.Join(", ", definition.Versions)}"));
        await using var models = new ModelManager(repository, backends, TimeProvider.System, NullLogger<ModelManager>.Instance);
        if (await models.LoadAsync(name, cancellationToken) is { } loadError)
        {
            results.Add(new ValidationResult(ValidationCheck.Load, false, loadError.Message));
            return results;
        }

        results.Add(new ValidationResult(ValidationCheck.Load, true, $"the model loads and answers its {config.Warmup.Count} warm-up sample(s)"));
        var executor = new ModelExecutor(models);
        if (options.GoldenFile is { } golden)
        {
            results.Add(await CheckGoldenAsync(executor, name, golden, cancellationToken));
        }

        if (options.LatencyBudgetMilliseconds is { } budget)
        {
            foreach (var rows in options.BatchSizes)
            {
                results.Add(await CheckLatencyAsync(executor, config, rows, budget, cancellationToken));
            }
        }

        return results;
    }

    /// <summary>
    /// Each line: <c>{"request": {KServe v2 request body}, "expected": {"OUTPUT0": [values...], ...}}</c>; an output
    /// matches when every value is within <c>atol + rtol * |expected|</c>.
    /// </summary>
    private async Task<ValidationResult> CheckGoldenAsync(ModelExecutor executor, string name, string path, CancellationToken cancellationToken)
    {
        var cases = 0;
        var worst = (Difference: 0.0, Where: "none");
        foreach (var (line, number) in File.ReadLines(path).Select((line, index) => (line, index + 1)).Where(entry => entry.line.Trim().Length > 0))
        {
            cases++;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                return new ValidationResult(ValidationCheck.Golden, false, $"{path} line {number} is not JSON: {e.Message}");
            }

            using var parsed = document;
            if (!document.RootElement.TryGetProperty("request", out var body) || !document.RootElement.TryGetProperty("expected", out var expected))
            {
                return new ValidationResult(ValidationCheck.Golden, false, $"{path} line {number}: needs \"request\" and \"expected\"");
            }

            if (KServeRequestDecoder.Decode(Encoding.UTF8.GetBytes(body.GetRawText()), -1, name, null, KServeLimits.Default, out var request) is { } invalid)
            {
                return new ValidationResult(ValidationCheck.Golden, false, $"{path} line {number}: {invalid.Message}");
            }

            using (request)
            {
                var result = await executor.InferAsync(request!, cancellationToken);
                using var response = result.Response;
                if (result.Error is { } error)
                {
                    return new ValidationResult(ValidationCheck.Golden, false, $"{path} line {number}: the model refused the request: {error.Message}");
                }

                foreach (var output in expected.EnumerateObject())
                {
                    var actual = response!.Outputs.Find(tensor => tensor.Name == output.Name);
                    var want = output.Value.EnumerateArray().Select(value => value.GetDouble()).ToArray();
                    if (actual is null || Values(actual) is not { } got || got.Length != want.Length)
                    {
                        return new ValidationResult(ValidationCheck.Golden, false, $"{path} line {number}: output '{output.Name}' is missing, not numeric, or not {want.Length} values");
                    }

                    for (var i = 0; i < want.Length; i++)
                    {
                        var difference = Math.Abs(got[i] - want[i]);
                        if (difference > worst.Difference)
                        {
                            worst = (difference, $"{output.Name} line {number} [{i}]");
                        }

                        if (difference > options.AbsoluteTolerance + (options.RelativeTolerance * Math.Abs(want[i])))
                        {
                            return new ValidationResult(ValidationCheck.Golden, false,
                                $"{path} line {number}: output '{output.Name}'[{i}] is {got[i]:G9}, expected {want[i]:G9} (|diff| {difference:G3} > atol {options.AbsoluteTolerance:G3} + rtol {options.RelativeTolerance:G3} * |expected|)");
                        }
                    }
                }
            }
        }

        return new ValidationResult(ValidationCheck.Golden, true,
            $"{cases} case(s) within atol {options.AbsoluteTolerance:G3}, rtol {options.RelativeTolerance:G3} (largest |diff| {worst.Difference:G3} at {worst.Where})");
    }

    /// <summary>Sequential requests of <paramref name="rows"/> rows of zeros (a warm-up first), timed end to end in process.</summary>
    private async Task<ValidationResult> CheckLatencyAsync(ModelExecutor executor, ModelConfig config, int rows, double budget, CancellationToken cancellationToken)
    {
        if (config.Inputs.Any(input => input.DataType == DataType.Bytes))
        {
            return new ValidationResult(ValidationCheck.Latency, false, "BYTES inputs have no generated load; measure this model with turbine bench");
        }

        var timings = new List<double>();
        for (var i = 0; i < options.Requests + 10; i++)
        {
            using var request = new InferenceRequest { ModelName = config.Name };
            foreach (var input in config.Inputs)
            {
                long[] shape = config.MaxBatchSize > 0 ? [rows, .. input.Dims.Select(d => d < 0 ? 1 : d)] : [.. input.Dims.Select(d => d < 0 ? 1 : d)];
                Shapes.TryGetElementCount(shape, out var count);
                request.Inputs.Add(new Tensor(input.Name, input.DataType, shape, TensorBuffer.CopyOf(new byte[count * input.DataType.ElementSize()])));
            }

            var clock = Stopwatch.StartNew();
            var result = await executor.InferAsync(request, cancellationToken);
            clock.Stop();
            result.Response?.Dispose();
            if (result.Error is { } error)
            {
                return new ValidationResult(ValidationCheck.Latency, false, $"batch {rows}: {error.Message}");
            }

            if (i >= 10)
            {
                timings.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        timings.Sort();
        var (p50, p99) = (timings[timings.Count / 2], timings[Math.Min(timings.Count - 1, (int)(timings.Count * 0.99))]);
        return new ValidationResult(ValidationCheck.Latency, p99 <= budget,
            $"batch {rows}: p50 {p50:F3} ms, p99 {p99:F3} ms over {timings.Count} requests (budget p99 {budget:G} ms)");
    }

    private static double[]? Values(Tensor tensor) => tensor.DataType switch
    {
        DataType.Fp32 => [.. tensor.ToArray<float>().Select(v => (double)v)],
        DataType.Fp64 => tensor.ToArray<double>(),
        DataType.Int32 => [.. tensor.ToArray<int>().Select(v => (double)v)],
        DataType.Int64 => [.. tensor.ToArray<long>().Select(v => (double)v)],
        _ => null,
    };
}

/// <summary>What <c>turbine validate</c> checks beyond the config and the load.</summary>
internal sealed record ValidationOptions(string? GoldenFile, double AbsoluteTolerance, double RelativeTolerance, double? LatencyBudgetMilliseconds, IReadOnlyList<int> BatchSizes, int Requests);
