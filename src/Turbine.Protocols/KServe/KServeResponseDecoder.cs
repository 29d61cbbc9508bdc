using System.Text.Json;

namespace Turbine.Protocols.KServe;

/// <summary>Reads a KServe v2 REST inference response (the client side), JSON and binary outputs alike.</summary>
public static class KServeResponseDecoder
{
    /// <summary>Decodes <paramref name="body"/>; <paramref name="headerLength"/> is the JSON header's length or -1.</summary>
    public static InferenceError? Decode(ReadOnlySpan<byte> body, int headerLength, KServeLimits limits, out InferenceResponse? response)
    {
        ArgumentNullException.ThrowIfNull(limits);
        response = null;
        if (headerLength > body.Length)
        {
            return InferenceError.Invalid("Inference-Header-Content-Length is larger than the response body");
        }

        var json = headerLength < 0 ? body : body[..headerLength];
        var binary = headerLength < 0 ? [] : body[headerLength..];
        using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = limits.MaxJsonDepth });
        var root = document.RootElement;
        var result = new InferenceResponse
        {
            ModelName = root.TryGetProperty("model_name", out var name) ? name.GetString() ?? string.Empty : string.Empty,
            ModelVersion = root.TryGetProperty("model_version", out var version) ? version.GetString() ?? string.Empty : string.Empty,
            Id = root.TryGetProperty("id", out var id) ? id.GetString() : null,
            Parameters = root.TryGetProperty("parameters", out var parameters) ? ReadParameters(parameters) : null,
        };
        var offset = 0;
        if (root.TryGetProperty("outputs", out var outputs))
        {
            foreach (var output in outputs.EnumerateArray())
            {
                var error = DecodeOutput(output, binary, ref offset, limits, out var tensor);
                if (error is not null)
                {
                    result.Dispose();
                    return error;
                }

                result.Outputs.Add(tensor!);
            }
        }

        response = result;
        return null;
    }

    private static InferenceError? DecodeOutput(JsonElement output, ReadOnlySpan<byte> binary, ref int offset, KServeLimits limits, out Tensor? tensor)
    {
        tensor = null;
        var name = output.GetProperty("name").GetString()!;
        if (!DataTypes.TryParse(output.GetProperty("datatype").GetString(), out var type))
        {
            return InferenceError.Invalid($"output '{name}' has an unknown datatype");
        }

        var shapeElement = output.GetProperty("shape");
        var shape = new long[shapeElement.GetArrayLength()];
        var i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            shape[i++] = dim.GetInt64();
        }

        if (!Shapes.TryGetElementCount(shape, out var count))
        {
            return InferenceError.Invalid($"output '{name}' has an invalid shape");
        }

        if (output.TryGetProperty("parameters", out var parameters) && parameters.TryGetProperty("binary_data_size", out var sizeElement))
        {
            var size = sizeElement.GetInt32();
            if (size < 0 || size > binary.Length - offset)
            {
                return InferenceError.Invalid($"output '{name}': binary_data_size {size} exceeds the binary data present");
            }

            tensor = new Tensor(name, type, shape, TensorBuffer.CopyOf(binary.Slice(offset, size)));
            offset += size;
            return null;
        }

        var error = KServeTensorData.Decode(System.Text.Encoding.UTF8.GetBytes(output.GetProperty("data").GetRawText()), name, type, count, limits, out var buffer);
        if (error is not null)
        {
            return error;
        }

        tensor = new Tensor(name, type, shape, buffer!);
        return null;
    }

    /// <summary>Response parameters as the protocol-neutral values: strings, booleans, 64-bit integers or doubles.</summary>
    private static Dictionary<string, object>? ReadParameters(JsonElement parameters)
    {
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var parameter in parameters.EnumerateObject())
        {
            object? value = parameter.Value.ValueKind switch
            {
                JsonValueKind.String => parameter.Value.GetString(),
                JsonValueKind.True or JsonValueKind.False => parameter.Value.GetBoolean(),
                JsonValueKind.Number when parameter.Value.TryGetInt64(out var integer) => integer,
                JsonValueKind.Number => parameter.Value.GetDouble(),
                _ => null,
            };
            if (value is not null)
            {
                result[parameter.Name] = value;
            }
        }

        return result;
    }
}
