using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Turbine.Core.Execution;
using Turbine.Core.Execution.Sequences;

namespace Turbine.Core.Lifecycle;

/// <summary>
/// Runs a new version's <c>model_warmup</c> samples through its own runner (validation, batching and every instance)
/// before the version is published, so that lazy initialisation is paid by the loader, not by the first clients.
/// </summary>
internal static class ModelWarmer
{
    /// <summary>Warm-up data is built in memory; a sample larger than this is a configuration mistake.</summary>
    private const long MaxInputBytes = 64L * 1024 * 1024;

    /// <summary>Warm-up sequences started so far, for their ids.</summary>
    private static long _warmupSequences;

    /// <returns>null when every sample ran, else why the version must not serve.</returns>
    public static async Task<string?> RunAsync(IVersionRunner runner, Func<string, string> warmupFile)
    {
        foreach (var sample in runner.Config.Warmup)
        {
            for (var round = 0; round < sample.Count; round++)
            {
                // One request per instance at a time, so that every instance runs the sample.
                var runs = new Task<string?>[runner.WarmupConcurrency];
                for (var i = 0; i < runs.Length; i++)
                {
                    runs[i] = RunOnceAsync(runner, sample, warmupFile);
                }

                foreach (var error in await Task.WhenAll(runs))
                {
                    if (error is not null)
                    {
                        return $"warm-up sample '{sample.Name}' failed: {error}";
                    }
                }
            }
        }

        return null;
    }

    private static async Task<string?> RunOnceAsync(IVersionRunner runner, WarmupSample sample, Func<string, string> warmupFile)
    {
        using var request = new InferenceRequest { ModelName = runner.Config.Name, Parameters = SequenceOfItsOwn(runner.Config) };
        // A sequence batcher takes one row per request.
        var rows = runner.Config.SequenceBatching is null ? Math.Max(1, sample.BatchSize) : 1;
        foreach (var input in sample.Inputs)
        {
            long[] shape = runner.Config.MaxBatchSize > 0 ? [rows, .. input.Dims] : input.Dims;
            var error = TryCreate(input, shape, warmupFile, out var tensor);
            if (error is not null)
            {
                return error;
            }

            request.Inputs.Add(tensor!);
        }

        var invalid = InferenceRequestValidator.Validate(runner.Config, request, out var validated);
        if (invalid is not null)
        {
            return invalid.Message;
        }

        var result = await runner.EnqueueAsync(request, validated!, CancellationToken.None);
        result.Response?.Dispose();
        return result.Error?.Message;
    }

    /// <summary>
    /// For a stateful model, the sequence parameters that make a warm-up request a whole sequence of its own (it starts
    /// and ends it), under an id from the top of the range, which clients' ids do not reach in practice.
    /// </summary>
    private static Dictionary<string, object>? SequenceOfItsOwn(ModelConfig config) =>
        config.SequenceBatching is null
            ? null
            : new Dictionary<string, object>
            {
                [SequenceStep.IdParameter] = long.MaxValue - Interlocked.Increment(ref _warmupSequences),
                [SequenceStep.StartParameter] = true,
                [SequenceStep.EndParameter] = true,
            };

    private static string? TryCreate(WarmupInput input, long[] shape, Func<string, string> warmupFile, out Tensor? tensor)
    {
        tensor = null;
        if (!Shapes.TryGetElementCount(shape, out var count))
        {
            return $"input '{input.Name}' has an invalid shape {Shapes.Format(shape)}";
        }

        if (input.Data == WarmupDataKind.File)
        {
            var path = warmupFile(input.File!);
            var info = new FileInfo(path);
            if (!info.Exists || info.LinkTarget is not null || info.Length > MaxInputBytes)
            {
                return $"input '{input.Name}': warmup/{input.File} is missing, a link, or larger than {MaxInputBytes} bytes";
            }

            var bytes = File.ReadAllBytes(path);
            tensor = new Tensor(input.Name, input.DataType, shape, TensorBuffer.Wrap(bytes));
            return null;
        }

        var size = input.DataType == DataType.Bytes ? count * (4 + (input.Data == WarmupDataKind.Random ? 8 : 0)) : count * Math.Max(1, input.DataType.ElementSize());
        if (size > MaxInputBytes)
        {
            return $"input '{input.Name}' would take {size} bytes; warm-up inputs are limited to {MaxInputBytes}";
        }

        var buffer = TensorBuffer.Rent((int)size);
        var span = buffer.Span;
        span.Clear();
        if (input.DataType == DataType.Bytes)
        {
            FillStrings(span, count, input.Data == WarmupDataKind.Random ? 8 : 0);
        }
        else if (input.Data == WarmupDataKind.Random)
        {
            FillRandom(span, input.DataType);
        }

        tensor = new Tensor(input.Name, input.DataType, shape, buffer);
        return null;
    }

    private static void FillStrings(Span<byte> span, long count, int length)
    {
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span, length);
            for (var j = 0; j < length; j++)
            {
                span[4 + j] = (byte)('a' + Random.Shared.Next(26));
            }

            span = span[(4 + length)..];
        }
    }

    /// <summary>Random values that are valid numbers of the type (random bits would make NaNs and infinities).</summary>
    private static void FillRandom(Span<byte> span, DataType type)
    {
        switch (type)
        {
            case DataType.Fp32:
                foreach (ref var value in MemoryMarshal.Cast<byte, float>(span))
                {
                    value = Random.Shared.NextSingle();
                }

                break;
            case DataType.Fp64:
                foreach (ref var value in MemoryMarshal.Cast<byte, double>(span))
                {
                    value = Random.Shared.NextDouble();
                }

                break;
            case DataType.Fp16:
                foreach (ref var value in MemoryMarshal.Cast<byte, Half>(span))
                {
                    value = (Half)Random.Shared.NextSingle();
                }

                break;
            case DataType.Bf16:
                foreach (ref var value in MemoryMarshal.Cast<byte, ushort>(span))
                {
                    value = BFloat16Bits.FromSingle(Random.Shared.NextSingle());
                }

                break;
            case DataType.Bool:
                foreach (ref var value in span)
                {
                    value = (byte)Random.Shared.Next(2);
                }

                break;
            default:
                Random.Shared.NextBytes(span);
                break;
        }
    }
}
