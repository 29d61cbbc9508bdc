using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Turbine.Protocols.KServe;

/// <summary>
/// Decodes a KServe v2 REST inference request, JSON tensors (flat or nested <c>data</c>) and the binary tensor
/// extension (a JSON header of <c>Inference-Header-Content-Length</c> bytes followed by the raw tensors in input
/// order). Sizes are computed with checked arithmetic and compared with the limits and with the bytes actually
/// present before any buffer is rented.
/// </summary>
public static class KServeRequestDecoder
{
    /// <summary>
    /// Decodes <paramref name="body"/>; <paramref name="headerLength"/> is the JSON header's length, or -1 when the
    /// whole body is JSON. <paramref name="check"/>, when given, sees each input's name, type and shape before its
    /// data is decoded or copied.
    /// </summary>
    /// <remarks><paramref name="sharedMemory"/> holds the registered shared-memory regions, for inputs placed in one; null when the extension is off.</remarks>
    public static InferenceError? Decode(
        ReadOnlySpan<byte> body, int headerLength, string modelName, string? modelVersion, KServeLimits limits, out InferenceRequest? request,
        InputSpecCheck? check = null, ISharedMemory? sharedMemory = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        request = null;
        if (headerLength > body.Length)
        {
            return InferenceError.Invalid($"Inference-Header-Content-Length {headerLength} is larger than the request body ({body.Length} bytes)");
        }

        var json = headerLength < 0 ? body : body[..headerLength];
        var binary = headerLength < 0 ? [] : body[headerLength..];
        var parsed = new InferenceRequest { ModelName = modelName, ModelVersion = modelVersion };
        try
        {
            var error = ParseHeader(json, limits, parsed, out var inputs) ?? CheckSpecs(inputs, check) ?? BuildInputs(json, binary, inputs, limits, parsed, sharedMemory);
            if (error is not null)
            {
                parsed.Dispose();
                return error;
            }

            request = parsed;
            return null;
        }
        catch (JsonException e)
        {
            parsed.Dispose();
            return InferenceError.Invalid($"malformed JSON in the request: {FirstSentence(e.Message)}");
        }
    }

    private static InferenceError? ParseHeader(ReadOnlySpan<byte> json, KServeLimits limits, InferenceRequest request, out List<InputHeader> inputs)
    {
        inputs = [];
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = limits.MaxJsonDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return InferenceError.Invalid("the request body must be a JSON object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                request.Id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                if (request.Id is null)
                {
                    return InferenceError.Invalid("'id' must be a string");
                }
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                var error = KServeParameters.Read(ref reader, out var parameters);
                if (error is not null)
                {
                    return error;
                }

                request.Parameters = parameters;
                if (parameters!.TryGetValue("binary_data_output", out var binaryOutput) && binaryOutput is bool on)
                {
                    request.BinaryDataOutputByDefault = on;
                }
            }
            else if (reader.ValueTextEquals("inputs"u8))
            {
                var error = ReadArray(ref reader, "inputs", inputs, ReadInput);
                if (error is not null)
                {
                    return error;
                }
            }
            else if (reader.ValueTextEquals("outputs"u8))
            {
                var error = ReadArray(ref reader, "outputs", request.Outputs, ReadOutput);
                if (error is not null)
                {
                    return error;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            return InferenceError.Invalid("the request body must be a single JSON object");
        }

        return inputs.Count == 0 ? InferenceError.Invalid("the request has no 'inputs'") : null;
    }

    private delegate InferenceError? ItemReader<T>(ref Utf8JsonReader reader, out T? item);

    private static InferenceError? ReadArray<T>(ref Utf8JsonReader reader, string property, List<T> items, ItemReader<T> readItem)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return InferenceError.Invalid($"'{property}' must be an array");
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return InferenceError.Invalid($"each element of '{property}' must be an object");
            }

            var error = readItem(ref reader, out var item);
            if (error is not null)
            {
                return error;
            }

            items.Add(item!);
        }

        return null;
    }

    private static InferenceError? ReadInput(ref Utf8JsonReader reader, out InputHeader? input)
    {
        input = new InputHeader();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                input.Name = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String || !DataTypes.TryParseUtf8(reader.ValueSpan, out input.DataType))
                {
                    return InferenceError.Invalid($"input '{input.Name}': 'datatype' {Describe(ref reader)} is not a KServe data type (BOOL, UINT8..UINT64, INT8..INT64, FP16, BF16, FP32, FP64, BYTES)");
                }
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                var error = ReadShape(ref reader, input);
                if (error is not null)
                {
                    return error;
                }
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                var error = KServeParameters.Read(ref reader, out var parameters);
                if (error is not null)
                {
                    return error;
                }

                if (parameters!.TryGetValue("binary_data_size", out var size))
                {
                    if (size is not long bytes || bytes < 0)
                    {
                        return InferenceError.Invalid($"input '{input.Name}': 'binary_data_size' must be a non-negative integer");
                    }

                    input.BinaryDataSize = bytes;
                }

                var placed = SharedMemoryParameters.Read(parameters, input.Name, out input.SharedMemory);
                if (placed is not null)
                {
                    return placed;
                }
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                input.DataStart = (int)reader.TokenStartIndex;
                reader.Skip();
                input.DataEnd = (int)reader.BytesConsumed;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (string.IsNullOrEmpty(input.Name))
        {
            return InferenceError.Invalid("every input needs a 'name'");
        }

        if (input.DataType == DataType.Invalid)
        {
            return InferenceError.Invalid($"input '{input.Name}' needs a 'datatype'");
        }

        return input.Shape is null ? InferenceError.Invalid($"input '{input.Name}' needs a 'shape'") : null;
    }

    private static InferenceError? ReadShape(ref Utf8JsonReader reader, InputHeader input)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return InferenceError.Invalid($"input '{input.Name}': 'shape' must be an array of integers");
        }

        Span<long> dims = stackalloc long[Shapes.MaxRank];
        var rank = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (rank == Shapes.MaxRank)
            {
                return InferenceError.Invalid($"input '{input.Name}': 'shape' has more than {Shapes.MaxRank} dimensions");
            }

            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out dims[rank]) || dims[rank] < 0)
            {
                return InferenceError.Invalid($"input '{input.Name}': 'shape' must hold non-negative integers");
            }

            rank++;
        }

        input.Shape = dims[..rank].ToArray();
        return null;
    }

    private static InferenceError? ReadOutput(ref Utf8JsonReader reader, out RequestedOutput? output)
    {
        output = null;
        string? name = null;
        var binary = false;
        var classCount = 0;
        SharedMemoryRef? place = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                name = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                var error = KServeParameters.Read(ref reader, out var parameters);
                if (error is not null)
                {
                    return error;
                }

                binary = parameters!.TryGetValue("binary_data", out var value) && value is true;
                if (parameters.TryGetValue(Classification.Parameter, out var classes) && !Classification.TryReadCount(classes, out classCount))
                {
                    return Classification.BadCount(name);
                }

                if (SharedMemoryParameters.Read(parameters, name, out place) is { } malformed)
                {
                    return malformed;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (string.IsNullOrEmpty(name))
        {
            return InferenceError.Invalid("every requested output needs a 'name'");
        }

        output = new RequestedOutput(name, binary, classCount, place);
        return null;
    }

    private static InferenceError? CheckSpecs(List<InputHeader> inputs, InputSpecCheck? check)
    {
        if (check is null)
        {
            return null;
        }

        foreach (var input in inputs)
        {
            if (check(input.Name!, input.DataType, input.Shape!) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    private static InferenceError? BuildInputs(
        ReadOnlySpan<byte> json, ReadOnlySpan<byte> binary, List<InputHeader> inputs, KServeLimits limits, InferenceRequest request, ISharedMemory? sharedMemory)
    {
        var offset = 0L;
        foreach (var input in inputs)
        {
            if (!Shapes.TryGetElementCount(input.Shape, out var count))
            {
                return InferenceError.Invalid($"input '{input.Name}': shape {Shapes.Format(input.Shape)} has too many elements");
            }

            var hasData = input.DataEnd > 0;
            var sources = (hasData ? 1 : 0) + (input.BinaryDataSize >= 0 ? 1 : 0) + (input.SharedMemory is null ? 0 : 1);
            if (sources != 1)
            {
                return InferenceError.Invalid(
                    sources == 0 ? $"input '{input.Name}' has no 'data' and no 'binary_data_size' (nor a 'shared_memory_region')"
                    : input.SharedMemory is null ? $"input '{input.Name}' has both 'data' and 'binary_data_size'; use one"
                    : $"input '{input.Name}' has a 'shared_memory_region' and also {(hasData ? "'data'" : "'binary_data_size'")}; use one");
            }

            InferenceError? error;
            TensorBuffer? buffer;
            if (input.SharedMemory is { } place)
            {
                error = SharedMemoryInput.Read(sharedMemory, place, input.Name!, input.DataType, count, limits, out buffer);
            }
            else if (hasData)
            {
                error = KServeTensorData.Decode(json[input.DataStart..input.DataEnd], input.Name!, input.DataType, count, limits, out buffer);
            }
            else
            {
                error = SliceBinary(binary, ref offset, input, count, limits, out buffer);
            }

            if (error is not null)
            {
                return error;
            }

            request.Inputs.Add(new Tensor(input.Name!, input.DataType, input.Shape!, buffer!));
        }

        return offset == binary.Length
            ? null
            : InferenceError.Invalid($"the binary tensor data is {binary.Length} bytes but the inputs' binary_data_size add up to {offset}");
    }

    private static InferenceError? SliceBinary(ReadOnlySpan<byte> binary, ref long offset, InputHeader input, long count, KServeLimits limits, out TensorBuffer? buffer)
    {
        buffer = null;
        var size = input.BinaryDataSize;
        if (size > binary.Length - offset)
        {
            return InferenceError.Invalid($"input '{input.Name}': binary_data_size {size} is larger than the {binary.Length - offset} bytes of binary data left");
        }

        if (size > limits.MaxTensorBytes)
        {
            return InferenceError.Invalid($"input '{input.Name}' is {size} bytes; the limit is {limits.MaxTensorBytes}");
        }

        if (input.DataType != DataType.Bytes &&
            (!Shapes.TryGetByteSize(count, input.DataType, limits.MaxTensorBytes, out var expected) || expected != size))
        {
            return InferenceError.Invalid(
                $"unexpected total byte size {size} for input '{input.Name}', expecting {ExpectedBytes(count, input.DataType)}");
        }

        buffer = TensorBuffer.CopyOf(binary.Slice((int)offset, (int)size));
        offset += size;
        return null;
    }

    private static string ExpectedBytes(long count, DataType type) =>
        Shapes.TryGetByteSize(count, type, long.MaxValue, out var bytes) ? bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) : "more than 2^63";

    private static string Describe(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String ? "'" + ClientText.Quote(reader.GetString()!) + "'" : "(not a string)";

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(" Path:", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }

    private sealed class InputHeader
    {
        public string? Name;
        public DataType DataType;
        public long[]? Shape;
        public long BinaryDataSize = -1;
        public SharedMemoryRef? SharedMemory;
        public int DataStart;
        public int DataEnd;
    }
}
