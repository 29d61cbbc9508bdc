using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Turbine.Onnx.Tools.Evaluation;

/// <summary>
/// Rows of model inputs to measure and compare models on, and to calibrate static quantization with: read from a
/// data file of KServe v2 requests, or made by the caller. Every input has the same number of rows; a batch of any size
/// is cut from them, wrapping around.
/// </summary>
public sealed class SampleSet
{
    private SampleSet(IReadOnlyList<SampleInput> inputs) => Inputs = inputs;

    /// <summary>The model's inputs, in its order.</summary>
    public IReadOnlyList<SampleInput> Inputs { get; }

    /// <summary>Rows held (the same for every input).</summary>
    public int Rows => Inputs.Count == 0 ? 0 : Inputs[0].Rows;

    /// <summary>
    /// An empty set for the inputs of <paramref name="signature"/>, whose first dimension must be the batch. Other
    /// dynamic dimensions are fixed by the first rows added (<see cref="SampleInput.Accept"/>).
    /// </summary>
    /// <exception cref="InferenceException">An input without a batch dimension, or of a type that cannot be sampled.</exception>
    public static SampleSet For(ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var inputs = new List<SampleInput>();
        foreach (var input in signature.Inputs)
        {
            if (input.Shape.Length == 0)
            {
                throw new InferenceException($"input '{input.Name}' is a scalar: the toolkit samples inputs whose first dimension is the batch");
            }

            inputs.Add(SampleInput.Create(input.Name, input.DataType, input.Shape[1..]));
        }

        return new SampleSet(inputs);
    }

    /// <summary>
    /// Reads a data file: one KServe v2 inference request per line (<c>{"inputs": [{"name", "shape", "datatype",
    /// "data"}]}</c>, data flat or nested), or a line of <c>turbine validate</c>'s golden file, whose <c>request</c> is
    /// taken. Each request adds its rows (its first dimension) to every input.
    /// </summary>
    /// <exception cref="InferenceException">A line that is not such a request, or that lacks an input of the model.</exception>
    public static SampleSet FromJsonLines(string path, ModelSignature signature)
    {
        var set = For(signature);
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 64 });
                var request = document.RootElement.TryGetProperty("request", out var inner) ? inner : document.RootElement;
                set.AddRequest(request);
            }
            catch (Exception e) when (e is JsonException or InferenceException or InvalidOperationException or KeyNotFoundException)
            {
                throw new InferenceException($"{Path.GetFileName(path)} line {number}: {e.Message}");
            }
        }

        if (set.Rows == 0)
        {
            throw new InferenceException($"{Path.GetFileName(path)} holds no requests");
        }

        return set;
    }

    /// <summary>
    /// Rows of uniform values in [-1, 1) (or 0/1 for bool and integer inputs); dynamic dimensions other than the
    /// batch take <paramref name="dynamicDimension"/>.
    /// </summary>
    public static SampleSet Random(ModelSignature signature, int rows, int seed = 42, int dynamicDimension = 16)
    {
        var set = For(signature);
        var random = new Random(seed);
        foreach (var input in set.Inputs)
        {
            input.Accept([.. input.RowShape.Select(dim => dim < 0 ? dynamicDimension : dim)]);
            var values = new double[rows * input.RowElements];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = input.Type is DataType.Fp32 or DataType.Fp64 ? (random.NextDouble() * 2) - 1 : random.Next(0, 2);
            }

            input.AddValues(values);
        }

        return set;
    }

    /// <summary>The inputs of <paramref name="rows"/> rows from <paramref name="firstRow"/>, as the session takes them.</summary>
    public SampleBatch Batch(int rows, int firstRow = 0) => new([.. Inputs.Select(i => i.Name)], [.. Inputs.Select(i => i.Batch(firstRow, rows))], rows);

    private void AddRequest(JsonElement request)
    {
        var given = request.GetProperty("inputs").EnumerateArray().ToDictionary(input => input.GetProperty("name").GetString()!, StringComparer.Ordinal);
        foreach (var input in Inputs)
        {
            if (!given.TryGetValue(input.Name, out var tensor))
            {
                throw new InferenceException($"the request has no input '{input.Name}'");
            }

            if (tensor.TryGetProperty("shape", out var shape))
            {
                input.Accept([.. shape.EnumerateArray().Skip(1).Select(dim => dim.GetInt64())]);
            }

            var values = new List<JsonElement>();
            Flatten(tensor.GetProperty("data"), values);
            input.AddJson(values);
        }

        if (Inputs.Select(i => i.Rows).Distinct().Count() > 1)
        {
            throw new InferenceException("the request's inputs hold different numbers of rows");
        }
    }

    /// <summary>Nested data in row-major order; the document's depth limit bounds the recursion.</summary>
    private static void Flatten(JsonElement element, List<JsonElement> values)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            values.Add(element);
            return;
        }

        foreach (var item in element.EnumerateArray())
        {
            Flatten(item, values);
        }
    }
}

/// <summary>One batch of inputs as ONNX Runtime takes them; disposing it frees the tensors.</summary>
/// <param name="Names">The input names.</param>
/// <param name="Values">The tensors, in the names' order.</param>
/// <param name="Rows">Rows in the batch.</param>
public sealed record SampleBatch(string[] Names, OrtValue[] Values, int Rows) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var value in Values)
        {
            value.Dispose();
        }
    }
}
