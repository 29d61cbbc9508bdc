using System.Buffers;
using System.Text;
using Turbine.Protocols.KServe;

namespace Turbine.Protocols.Tests;

public sealed class KServeResponseTests
{
    [Fact]
    public void Json_response_has_the_protocol_shape()
    {
        using var response = new InferenceResponse { ModelName = "simple", ModelVersion = "1", Id = "a'b" };
        response.Outputs.Add(Tensor.FromArray<int>("OUTPUT0", [1, 2], [3, 4]));
        response.OutputBinary.Add(false);
        var buffer = new ArrayBufferWriter<byte>();

        Assert.Equal(-1, KServeResponseEncoder.Write(buffer, response));

        Assert.Equal(
            """{"model_name":"simple","model_version":"1","id":"a'b","outputs":[{"name":"OUTPUT0","datatype":"INT32","shape":[1,2],"data":[3,4]}]}""",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Binary_outputs_follow_the_json_header_and_decode_back()
    {
        using var response = new InferenceResponse { ModelName = "m", ModelVersion = "2" };
        response.Outputs.Add(Tensor.FromArray<float>("a", [2], [1.5f, float.NaN]));
        response.Outputs.Add(Tensor.FromStrings("b", [2], ["hi", "there"]));
        response.Outputs.Add(Tensor.FromArray<double>("c", [1], [2.5]));
        response.OutputBinary.AddRange([true, true, false]);
        var buffer = new ArrayBufferWriter<byte>();

        var headerLength = KServeResponseEncoder.Write(buffer, response);

        var header = Encoding.UTF8.GetString(buffer.WrittenSpan[..headerLength]);
        Assert.Contains("\"binary_data_size\":8", header, StringComparison.Ordinal);
        Assert.Equal(headerLength + 8 + 15, buffer.WrittenCount);
        Assert.Null(KServeResponseDecoder.Decode(buffer.WrittenSpan, headerLength, KServeLimits.Default, out var decoded));
        using (decoded)
        {
            Assert.Equal([1.5f, float.NaN], decoded!.Outputs[0].ToArray<float>());
            Assert.Equal(["hi", "there"], decoded.Outputs[1].ToStrings());
            Assert.Equal([2.5], decoded.Outputs[2].ToArray<double>());
        }
    }

    [Fact]
    public void Non_finite_floats_in_json_are_written_as_strings()
    {
        using var response = new InferenceResponse { ModelName = "m", ModelVersion = "1" };
        response.Outputs.Add(Tensor.FromArray<float>("a", [3], [float.NaN, float.PositiveInfinity, float.NegativeInfinity]));
        response.OutputBinary.Add(false);
        var buffer = new ArrayBufferWriter<byte>();

        KServeResponseEncoder.Write(buffer, response);

        Assert.Contains("\"data\":[\"NaN\",\"Infinity\",\"-Infinity\"]", Encoding.UTF8.GetString(buffer.WrittenSpan), StringComparison.Ordinal);
    }

    [Fact]
    public void Error_body_is_a_single_error_field()
    {
        var buffer = new ArrayBufferWriter<byte>();

        KServeJson.WriteError(buffer, "Request for unknown model: 'x' is not found");

        Assert.Equal("""{"error":"Request for unknown model: 'x' is not found"}""", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Bf16_converts_with_round_to_nearest_even()
    {
        Assert.Equal(0x3F80, BFloat16Bits.FromSingle(1f));
        Assert.Equal(1f, BFloat16Bits.ToSingle(0x3F80));
        Assert.Equal(0x3F80, BFloat16Bits.FromSingle(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie, even stays
        Assert.Equal(0x3F82, BFloat16Bits.FromSingle(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie, odd rounds up
        Assert.True(float.IsNaN(BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(float.NaN))));
    }
}
