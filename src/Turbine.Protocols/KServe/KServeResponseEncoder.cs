using System.Buffers;
using System.Text.Json;

namespace Turbine.Protocols.KServe;

/// <summary>
/// Writes a KServe v2 REST inference response: a JSON header, followed by the raw bytes of every output sent in
/// binary form (binary tensor extension), in output order.
/// </summary>
public static class KServeResponseEncoder
{
    /// <summary>
    /// Why the response cannot be written as asked: an output to be written as JSON holds BYTES that are not UTF-8.
    /// Null when it can.
    /// </summary>
    public static InferenceError? CheckJsonOutputs(InferenceResponse response, SharedMemoryRef?[]? places = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        for (var i = 0; i < response.Outputs.Count; i++)
        {
            var binary = i < response.OutputBinary.Count && response.OutputBinary[i];
            if (!binary && places?[i] is null && !KServeTensorData.IsJsonWritable(response.Outputs[i]))
            {
                return InferenceError.Invalid(
                    $"output '{response.Outputs[i].Name}' holds BYTES that are not valid UTF-8, which JSON cannot carry; request it with \"binary_data\": true");
            }
        }

        return null;
    }

    /// <summary>Writes the response to <paramref name="output"/>.</summary>
    /// <returns>The JSON header's length when any output is binary (the <c>Inference-Header-Content-Length</c>), else -1.</returns>
    public static int Write(IBufferWriter<byte> output, InferenceResponse response, SharedMemoryRef?[]? places = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(response);
        var anyBinary = false;
        using (var writer = new Utf8JsonWriter(output, KServeJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("model_name"u8, response.ModelName);
            writer.WriteString("model_version"u8, response.ModelVersion);
            if (response.Id is not null)
            {
                writer.WriteString("id"u8, response.Id);
            }

            if (response.Parameters is { Count: > 0 } parameters)
            {
                KServeParameters.Write(writer, parameters);
            }

            writer.WriteStartArray("outputs"u8);
            for (var i = 0; i < response.Outputs.Count; i++)
            {
                var tensor = response.Outputs[i];
                if (places?[i] is { } place)
                {
                    KServeTensorData.WriteSharedTensor(writer, tensor, place);
                    continue;
                }

                var binary = i < response.OutputBinary.Count && response.OutputBinary[i];
                anyBinary |= binary;
                KServeTensorData.WriteTensor(writer, tensor, binary);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.Flush();
            if (!anyBinary)
            {
                return -1;
            }

            var headerLength = (int)writer.BytesCommitted;
            for (var i = 0; i < response.Outputs.Count; i++)
            {
                if (response.OutputBinary[i] && places?[i] is null)
                {
                    output.Write(response.Outputs[i].Data.Span);
                }
            }

            return headerLength;
        }
    }

    internal static void WriteShape(Utf8JsonWriter writer, ReadOnlySpan<long> shape)
    {
        writer.WriteStartArray("shape"u8);
        foreach (var dim in shape)
        {
            writer.WriteNumberValue(dim);
        }

        writer.WriteEndArray();
    }
}
