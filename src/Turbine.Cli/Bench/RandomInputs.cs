using System.Runtime.InteropServices;
using Turbine.Client;

namespace Turbine.Cli.Bench;

/// <summary>Builds a request of random values shaped from the model's metadata (dynamic dimensions become <c>rows</c> first, then 1).</summary>
internal static class RandomInputs
{
    public static InferenceRequest Create(ModelMetadata metadata, string? version, int rows, Random random)
    {
        var request = new InferenceRequest { ModelName = metadata.Name, ModelVersion = version };
        foreach (var input in metadata.Inputs)
        {
            var shape = input.Shape.Select((d, i) => d >= 0 ? d : i == 0 ? rows : 1).ToArray();
            Shapes.TryGetElementCount(shape, out var count);
            request.Inputs.Add(input.DataType == DataType.Bytes
                ? Tensor.FromStrings(input.Name, shape, Enumerable.Range(0, (int)count).Select(_ => RandomWord(random)).ToArray())
                : Numeric(input.Name, input.DataType, shape, (int)count, random));
        }

        return request;
    }

    private static Tensor Numeric(string name, DataType type, long[] shape, int count, Random random)
    {
        var bytes = new byte[checked(count * type.ElementSize())];
        switch (type)
        {
            case DataType.Fp32:
                Fill(MemoryMarshal.Cast<byte, float>(bytes.AsSpan()), random, r => (float)(r.NextDouble() * 2 - 1));
                break;
            case DataType.Fp64:
                Fill(MemoryMarshal.Cast<byte, double>(bytes.AsSpan()), random, r => r.NextDouble() * 2 - 1);
                break;
            case DataType.Fp16:
                Fill(MemoryMarshal.Cast<byte, Half>(bytes.AsSpan()), random, r => (Half)(r.NextDouble() * 2 - 1));
                break;
            case DataType.Bf16:
                Fill(MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan()), random, r => BFloat16Bits.FromSingle((float)(r.NextDouble() * 2 - 1)));
                break;
            case DataType.Bool:
                Fill(bytes.AsSpan(), random, r => (byte)r.Next(2));
                break;
            default:
                random.NextBytes(bytes); // integers: any bit pattern is a valid value
                break;
        }

        return Tensor.FromArray(name, shape, bytes.AsSpan(), type);
    }

    private static void Fill<T>(Span<T> values, Random random, Func<Random, T> next)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = next(random);
        }
    }

    private static string RandomWord(Random random) => new([.. Enumerable.Range(0, random.Next(3, 12)).Select(_ => (char)random.Next('a', 'z' + 1))]);
}
