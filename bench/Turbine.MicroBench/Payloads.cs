using System.Buffers;
using Turbine.Protocols.KServe;

namespace Turbine.MicroBench;

/// <summary>Request and response bodies of the benchmark models: the tiny MLP's 16 floats and the medium MLP's 1024.</summary>
internal static class Payloads
{
    public static InferenceRequest Request(int features)
    {
        var request = new InferenceRequest { ModelName = "mlp" };
        request.Inputs.Add(Tensor.FromArray<float>("x", [1, features], Values(features)));
        return request;
    }

    public static InferenceResponse Response(int features, bool binary)
    {
        var response = new InferenceResponse { ModelName = "mlp", ModelVersion = "1" };
        response.Outputs.Add(Tensor.FromArray<float>("y", [1, features], Values(features)));
        response.OutputBinary.Add(binary);
        return response;
    }

    /// <summary>The body a client sends: JSON <c>data</c> arrays, or a JSON header plus raw bytes (returns the header length).</summary>
    public static (byte[] Body, int HeaderLength) Body(int features, bool binary)
    {
        using var request = Request(features);
        var output = new ArrayBufferWriter<byte>();
        var headerLength = KServeRequestEncoder.Write(output, request, binary);
        return (output.WrittenSpan.ToArray(), headerLength);
    }

    private static float[] Values(int count)
    {
        var random = new Random(7);
        return [.. Enumerable.Range(0, count).Select(_ => (float)random.NextDouble())];
    }
}
