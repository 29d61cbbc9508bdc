using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Turbine.Client;
using Turbine.Protocols.KServe;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine infer MODEL</c>: sends one request built from numbers on the command line (shapes and types come
/// from the model's metadata), from a KServe JSON body in a file, or filled with one value, and prints the outputs.
/// </summary>
internal static class InferCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var model = new Argument<string>("model") { Description = "Model name" };
        var version = new Option<string?>("--model-version") { Description = "Model version (default: newest ready)" };
        var inputs = new Option<string[]>("--input", "-i") { Description = "NAME=v1,v2,... (repeatable); strings for BYTES inputs", AllowMultipleArgumentsPerToken = false };
        var shapes = new Option<string[]>("--shape") { Description = "NAME=d1,d2,... to override a shape" };
        var fill = new Option<string?>("--fill") { Description = "Fill every input not given with this value (e.g. 0.5)" };
        var json = new Option<FileInfo?>("--json") { Description = "A KServe v2 JSON request body to send" };
        var maxValues = new Option<int>("--max-values") { Description = "Values printed per output", DefaultValueFactory = _ => 16 };
        var command = new Command("infer", "Run one inference and print the outputs") { model, version, inputs, shapes, fill, json, maxValues };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => connection.RunAsync(parse, async client =>
        {
            using var request = await BuildRequestAsync(client, parse.GetValue(model)!, parse.GetValue(version), parse.GetValue(inputs) ?? [], parse.GetValue(shapes) ?? [], parse.GetValue(fill), parse.GetValue(json), cancellationToken);
            using var response = await client.InferAsync(request, cancellationToken);
            Print(response, parse.GetValue(maxValues), Console.Out);
        }));
        return command;
    }

    private static async Task<InferenceRequest> BuildRequestAsync(
        ITurbineClient client, string model, string? version, string[] inputs, string[] shapes, string? fill, FileInfo? json, CancellationToken cancellationToken)
    {
        if (json is not null)
        {
            var error = KServeRequestDecoder.Decode(await File.ReadAllBytesAsync(json.FullName, cancellationToken), -1, model, version, KServeLimits.Default, out var fromFile);
            return error is null ? fromFile! : throw new FormatException(error.Message);
        }

        var metadata = await client.GetModelMetadataAsync(model, version, cancellationToken);
        var values = ParsePairs(inputs);
        var shapeOverrides = ParsePairs(shapes);
        var request = new InferenceRequest { ModelName = model, ModelVersion = version };
        foreach (var input in metadata.Inputs)
        {
            string[] elements;
            if (values.TryGetValue(input.Name, out var given))
            {
                elements = input.DataType == DataType.Bytes ? given.Split(',') : given.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            }
            else if (fill is not null)
            {
                elements = [];
            }
            else
            {
                throw new FormatException($"input '{input.Name}' ({input.DataType.ToWireName()} {Shapes.Format(input.Shape)}) is missing; pass --input {input.Name}=... or --fill VALUE");
            }

            var shape = shapeOverrides.TryGetValue(input.Name, out var overridden)
                ? overridden.Split(',').Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray()
                : ResolveShape(input.Shape, elements.Length);
            if (elements.Length == 0)
            {
                Shapes.TryGetElementCount(shape, out var count);
                elements = Enumerable.Repeat(fill!, (int)count).ToArray();
            }

            request.Inputs.Add(CreateTensor(input.Name, input.DataType, shape, elements));
        }

        return request;
    }

    /// <summary>
    /// Replaces -1 dimensions: the last dynamic one takes whatever the number of values needs, the others are 1
    /// (so a batching model gets a batch of one unless the values say otherwise).
    /// </summary>
    private static long[] ResolveShape(long[] shape, int valueCount)
    {
        var resolved = (long[])shape.Clone();
        var known = resolved.Where(d => d >= 0).Aggregate(1L, (a, b) => a * b);
        var last = Array.LastIndexOf(resolved, -1L);
        for (var i = 0; i < resolved.Length; i++)
        {
            if (resolved[i] == -1)
            {
                resolved[i] = i == last && known > 0 ? Math.Max(1, valueCount / known) : 1;
            }
        }

        return resolved;
    }

    private static Tensor CreateTensor(string name, DataType type, long[] shape, string[] elements) => type switch
    {
        DataType.Bytes => Tensor.FromStrings(name, shape, elements),
        DataType.Bool => Tensor.FromArray(name, shape, elements.Select(e => bool.Parse(e)).ToArray().AsSpan()),
        DataType.UInt8 => Tensor.FromArray(name, shape, Parse<byte>(elements)),
        DataType.UInt16 => Tensor.FromArray(name, shape, Parse<ushort>(elements)),
        DataType.UInt32 => Tensor.FromArray(name, shape, Parse<uint>(elements)),
        DataType.UInt64 => Tensor.FromArray(name, shape, Parse<ulong>(elements)),
        DataType.Int8 => Tensor.FromArray(name, shape, Parse<sbyte>(elements)),
        DataType.Int16 => Tensor.FromArray(name, shape, Parse<short>(elements)),
        DataType.Int32 => Tensor.FromArray(name, shape, Parse<int>(elements)),
        DataType.Int64 => Tensor.FromArray(name, shape, Parse<long>(elements)),
        DataType.Fp16 => Tensor.FromArray(name, shape, Parse<Half>(elements)),
        DataType.Bf16 => Tensor.FromArray(name, shape, Parse<float>(elements).Select(BFloat16Bits.FromSingle).ToArray().AsSpan(), DataType.Bf16),
        DataType.Fp32 => Tensor.FromArray(name, shape, Parse<float>(elements)),
        DataType.Fp64 => Tensor.FromArray(name, shape, Parse<double>(elements)),
        _ => throw new FormatException($"input '{name}' has an unsupported data type"),
    };

    private static T[] Parse<T>(string[] elements)
        where T : ISpanParsable<T> =>
        elements.Select(e => T.Parse(e, CultureInfo.InvariantCulture)).ToArray();

    private static Dictionary<string, string> ParsePairs(string[] pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"'{pair}' is not NAME=VALUES");
            }

            result[pair[..equals]] = pair[(equals + 1)..];
        }

        return result;
    }

    internal static void Print(InferenceResponse response, int maxValues, TextWriter output)
    {
        output.WriteLine($"model {response.ModelName} version {response.ModelVersion}{(response.Id is null ? string.Empty : " id " + response.Id)}");
        foreach (var tensor in response.Outputs)
        {
            var values = Format(tensor);
            var shown = string.Join(", ", values.Take(maxValues));
            var more = values.Count > maxValues ? $", ... ({values.Count} values)" : string.Empty;
            output.WriteLine($"{tensor.Name} {tensor.DataType.ToWireName()} {Shapes.Format(tensor.Shape)}: [{shown}{more}]");
        }
    }

    private static List<string> Format(Tensor tensor)
    {
        var data = tensor.Data.Span;
        return tensor.DataType switch
        {
            DataType.Bytes => tensor.ToStrings().Select(s => "\"" + s + "\"").ToList(),
            DataType.Bool => data.ToArray().Select(b => b != 0 ? "true" : "false").ToList(),
            DataType.UInt8 => Strings<byte>(data),
            DataType.UInt16 => Strings<ushort>(data),
            DataType.UInt32 => Strings<uint>(data),
            DataType.UInt64 => Strings<ulong>(data),
            DataType.Int8 => Strings<sbyte>(data),
            DataType.Int16 => Strings<short>(data),
            DataType.Int32 => Strings<int>(data),
            DataType.Int64 => Strings<long>(data),
            DataType.Fp16 => Strings<Half>(data),
            DataType.Bf16 => MemoryMarshal.Cast<byte, ushort>(data).ToArray().Select(b => BFloat16Bits.ToSingle(b).ToString(CultureInfo.InvariantCulture)).ToList(),
            DataType.Fp32 => Strings<float>(data),
            DataType.Fp64 => Strings<double>(data),
            _ => [Encoding.ASCII.GetString(data)],
        };
    }

    private static List<string> Strings<T>(Span<byte> data)
        where T : unmanaged, IFormattable =>
        MemoryMarshal.Cast<byte, T>(data).ToArray().Select(v => v.ToString(null, CultureInfo.InvariantCulture)).ToList();
}
