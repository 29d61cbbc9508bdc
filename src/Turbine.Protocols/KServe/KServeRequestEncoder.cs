using System.Buffers;
using System.Text.Json;

namespace Turbine.Protocols.KServe;

/// <summary>Writes a KServe v2 REST inference request (the client side): JSON tensors, or the binary tensor extension.</summary>
public static class KServeRequestEncoder
{
    /// <summary>Writes <paramref name="request"/>; inputs travel as binary when <paramref name="binaryInputs"/> is set.</summary>
    /// <returns>The JSON header's length when any input is binary (send it as <c>Inference-Header-Content-Length</c>), else -1.</returns>
    public static int Write(IBufferWriter<byte> output, InferenceRequest request, bool binaryInputs)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(request);
        using (var writer = new Utf8JsonWriter(output, KServeJson.WriterOptions))
        {
            writer.WriteStartObject();
            if (request.Id is not null)
            {
                writer.WriteString("id"u8, request.Id);
            }

            var parameters = request.Parameters ?? [];
            if (request.BinaryDataOutputByDefault)
            {
                parameters = new Dictionary<string, object>(parameters) { ["binary_data_output"] = true };
            }

            if (parameters.Count > 0)
            {
                KServeParameters.Write(writer, parameters);
            }

            writer.WriteStartArray("inputs"u8);
            foreach (var input in request.Inputs)
            {
                KServeTensorData.WriteTensor(writer, input, binaryInputs);
            }

            writer.WriteEndArray();
            if (request.Outputs.Count > 0)
            {
                writer.WriteStartArray("outputs"u8);
                foreach (var requested in request.Outputs)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name"u8, requested.Name);
                    writer.WriteStartObject("parameters"u8);
                    writer.WriteBoolean("binary_data"u8, requested.BinaryData);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            writer.Flush();
            if (!binaryInputs)
            {
                return -1;
            }

            var headerLength = (int)writer.BytesCommitted;
            foreach (var input in request.Inputs)
            {
                output.Write(input.Data.Span);
            }

            return headerLength;
        }
    }
}
