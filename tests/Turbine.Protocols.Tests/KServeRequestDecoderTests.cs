using System.Buffers;
using System.Diagnostics;
using System.Text;
using Turbine.Protocols.KServe;

namespace Turbine.Protocols.Tests;

public sealed class KServeRequestDecoderTests
{
    private static readonly KServeLimits Limits = KServeLimits.Default;

    public static TheoryData<DataType, string, byte[]> JsonCases() => new()
    {
        { DataType.Bool, "[true,false,true]", [1, 0, 1] },
        { DataType.UInt8, "[0,255,7]", [0, 255, 7] },
        { DataType.Int8, "[-128,127,-1]", [0x80, 0x7F, 0xFF] },
        { DataType.UInt16, "[1,65535,2]", [1, 0, 0xFF, 0xFF, 2, 0] },
        { DataType.Int16, "[-1,2,-32768]", [0xFF, 0xFF, 2, 0, 0, 0x80] },
        { DataType.UInt32, "[1,4294967295,0]", [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0] },
        { DataType.Int32, "[-1,1,2]", [0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 2, 0, 0, 0] },
        { DataType.UInt64, "[18446744073709551615,0,1]", [.. Enumerable.Repeat((byte)0xFF, 8), .. new byte[8], 1, 0, 0, 0, 0, 0, 0, 0] },
        { DataType.Int64, "[-1,0,1]", [.. Enumerable.Repeat((byte)0xFF, 8), .. new byte[8], 1, 0, 0, 0, 0, 0, 0, 0] },
        { DataType.Fp16, "[1.0,-2.0,0.5]", [.. BitConverter.GetBytes((Half)1), .. BitConverter.GetBytes((Half)(-2)), .. BitConverter.GetBytes((Half)0.5)] },
        { DataType.Bf16, "[1.0,-2.0,0.5]", [0x80, 0x3F, 0x00, 0xC0, 0x00, 0x3F] },
        { DataType.Fp32, "[1.5,-2.25,3]", [.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2.25f), .. BitConverter.GetBytes(3f)] },
        { DataType.Fp64, "[1.5,-2.25,3]", [.. BitConverter.GetBytes(1.5), .. BitConverter.GetBytes(-2.25), .. BitConverter.GetBytes(3.0)] },
        { DataType.Bytes, "[\"ab\",\"\",\"\\u00e9\"]", [2, 0, 0, 0, (byte)'a', (byte)'b', 0, 0, 0, 0, 2, 0, 0, 0, 0xC3, 0xA9] },
    };

    [Theory]
    [MemberData(nameof(JsonCases))]
    public void Flat_json_data_decodes_to_little_endian_bytes(DataType type, string data, byte[] expected)
    {
        using var request = Decode($$"""{"inputs":[{"name":"x","shape":[3],"datatype":"{{type.ToWireName()}}","data":{{data}}}]}""");

        var tensor = Assert.Single(request.Inputs);
        Assert.Equal(type, tensor.DataType);
        Assert.Equal([3L], tensor.Shape);
        Assert.Equal(expected, tensor.Data.Span.ToArray());
    }

    [Fact]
    public void Nested_json_data_is_flattened_row_major()
    {
        using var request = Decode("""{"inputs":[{"name":"x","shape":[2,2],"datatype":"INT32","data":[[1,2],[3,4]]}]}""");

        Assert.Equal([1, 2, 3, 4], request.Inputs[0].ToArray<int>());
    }

    [Theory]
    [MemberData(nameof(JsonCases))]
    public void Binary_data_is_taken_as_is(DataType type, string data, byte[] expected)
    {
        _ = data;
        var header = $$$"""{"inputs":[{"name":"x","shape":[3],"datatype":"{{{type.ToWireName()}}}","parameters":{"binary_data_size":{{{expected.Length}}}}}]}""";
        var body = Encoding.UTF8.GetBytes(header).Concat(expected).ToArray();

        var error = KServeRequestDecoder.Decode(body, Encoding.UTF8.GetByteCount(header), "m", null, Limits, out var request);

        Assert.Null(error);
        using (request)
        {
            Assert.Equal(expected, request!.Inputs[0].Data.Span.ToArray());
        }
    }

    [Fact]
    public void Id_parameters_and_requested_outputs_are_read()
    {
        using var request = Decode("""
            {"id":"42","parameters":{"binary_data_output":true,"priority":3,"tag":"a"},
             "inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],
             "outputs":[{"name":"y","parameters":{"binary_data":true}},{"name":"z"}]}
            """);

        Assert.Equal("42", request.Id);
        Assert.True(request.BinaryDataOutputByDefault);
        Assert.Equal(3L, request.Parameters!["priority"]);
        Assert.Equal([new RequestedOutput("y", true), new RequestedOutput("z", false)], request.Outputs);
    }

    public static TheoryData<string, string> MalformedRequests() => new()
    {
        { "[]", "must be a JSON object" },
        { "{}", "has no 'inputs'" },
        { """{"inputs":{}}""", "'inputs' must be an array" },
        { """{"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]}""", "needs a 'name'" },
        { """{"inputs":[{"name":"x","shape":[1],"data":[1]}]}""", "needs a 'datatype'" },
        { """{"inputs":[{"name":"x","datatype":"FP32","data":[1]}]}""", "needs a 'shape'" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"FLOAT","data":[1]}]}""", "is not a KServe data type" },
        { """{"inputs":[{"name":"x","shape":[2,-5],"datatype":"FP32","data":[1]}]}""", "non-negative integers" },
        { """{"inputs":[{"name":"x","shape":[1.5],"datatype":"FP32","data":[1]}]}""", "non-negative integers" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]}""", "has no 'data' and no 'binary_data_size'" },
        { """{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1]}]}""", "holds 1 elements but its shape needs 2" },
        { """{"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1,2]}]}""", "holds 2 elements but its shape needs 3" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1,2]}]}""", "holds more elements" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[300]}]}""", "not a valid INT8 value" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"UINT32","data":[-1]}]}""", "not a valid UINT32 value" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"BOOL","data":[1]}]}""", "not a valid BOOL value" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"INT32","data":["1"]}]}""", "not a valid INT32 value" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":[1]}]}""", "is not a string" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],"parameters":{"a":{"b":1}}}""", "must be a bool, number or string" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]} trailing""", "malformed JSON" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1,""", "malformed JSON" },
        { """{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1],"parameters":{"binary_data_size":4}}]}""", "both 'data' and 'binary_data_size'" },
        { """{"inputs":[],"outputs":[{"parameters":{}}]}""", "needs a 'name'" },
    };

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public void Malformed_requests_are_refused_with_a_clear_message(string json, string expected)
    {
        var error = KServeRequestDecoder.Decode(Encoding.UTF8.GetBytes(json), -1, "m", null, Limits, out var request);

        Assert.Null(request);
        Assert.Equal(StatusCode.InvalidArgument, error!.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[16,1152921504606846978]", "FP32")] // 16 x (2^60 + 2)
    [InlineData("[2147483648,1]", "BOOL")]
    [InlineData("[1,4611686018427387904]", "FP32")]
    [InlineData("[9223372036854775807,9223372036854775807]", "INT64")]
    [InlineData("[4096,4096,4096]", "FP64")]
    public void Oversized_shapes_are_refused_quickly_without_allocating(string shape, string type)
    {
        var json = $$"""{"inputs":[{"name":"x","shape":{{shape}},"datatype":"{{type}}","data":[1,2,3,4]}]}""";
        KServeRequestDecoder.Decode(Encoding.UTF8.GetBytes(json), -1, "m", null, Limits, out _); // JIT warm-up, so the clock measures the check itself
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();

        var error = KServeRequestDecoder.Decode(Encoding.UTF8.GetBytes(json), -1, "m", null, Limits, out _);

        Assert.True(clock.ElapsedMilliseconds < 50, $"took {clock.ElapsedMilliseconds} ms");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocated < 1024 * 1024);
        Assert.Equal(StatusCode.InvalidArgument, error!.Code);
    }

    [Fact]
    public void Shapes_of_rank_above_16_are_refused()
    {
        var json = $$"""{"inputs":[{"name":"x","shape":[{{string.Join(",", Enumerable.Repeat(1, 17))}}],"datatype":"FP32","data":[1]}]}""";

        var error = KServeRequestDecoder.Decode(Encoding.UTF8.GetBytes(json), -1, "m", null, Limits, out _);

        Assert.Contains("more than 16 dimensions", error!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(65)]
    [InlineData(250_000)]
    public void Json_nested_deeper_than_the_limit_is_refused_not_a_stack_overflow(int depth)
    {
        var nested = new string('[', depth) + "1" + new string(']', depth);
        foreach (var json in new[]
        {
            $$"""{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":{{nested}}}]}""",
            $$"""{"parameters":{"a":{{nested}}},"inputs":[]}""",
            $$"""{"other":{{nested}}}""",
        })
        {
            var error = KServeRequestDecoder.Decode(Encoding.UTF8.GetBytes(json), -1, "m", null, Limits, out _);
            Assert.Equal(StatusCode.InvalidArgument, error!.Code);
        }
    }

    [Theory]
    [InlineData(8, 4)] // too small for the tensor
    [InlineData(16, 20)] // more than is present
    [InlineData(12, 12)] // right size, but 4 bytes trail
    public void Binary_sizes_must_match_the_tensor_and_the_body_exactly(int declared, int present)
    {
        var header = $$$"""{"inputs":[{"name":"x","shape":[3],"datatype":"FP32","parameters":{"binary_data_size":{{{declared}}}}}]}""";
        var body = Encoding.UTF8.GetBytes(header).Concat(new byte[present + (declared == present ? 4 : 0)]).ToArray();

        var error = KServeRequestDecoder.Decode(body, Encoding.UTF8.GetByteCount(header), "m", null, Limits, out var request);

        Assert.Null(request);
        Assert.Equal(StatusCode.InvalidArgument, error!.Code);
    }

    [Fact]
    public void A_header_length_beyond_the_body_is_refused()
    {
        var error = KServeRequestDecoder.Decode("{}"u8, 100, "m", null, Limits, out _);

        Assert.Contains("larger than the request body", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_binary_data_size_is_refused()
    {
        var header = """{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":-4}}]}""";

        var error = KServeRequestDecoder.Decode(Encoding.UTF8.GetBytes(header), Encoding.UTF8.GetByteCount(header), "m", null, Limits, out _);

        Assert.Contains("non-negative", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Request_encoder_and_decoder_round_trip_json_and_binary()
    {
        foreach (var binary in new[] { false, true })
        {
            using var original = new InferenceRequest { ModelName = "m", Id = "7" };
            original.Inputs.Add(Tensor.FromArray<float>("a", [2, 2], [1, 2, 3, 4]));
            original.Inputs.Add(Tensor.FromStrings("s", [2], ["x", "yz"]));
            original.Outputs.Add(new RequestedOutput("out", BinaryData: true));
            var buffer = new ArrayBufferWriter<byte>();
            var headerLength = KServeRequestEncoder.Write(buffer, original, binary);

            var error = KServeRequestDecoder.Decode(buffer.WrittenSpan, headerLength, "m", null, Limits, out var decoded);

            Assert.Null(error);
            using (decoded)
            {
                Assert.Equal("7", decoded!.Id);
                Assert.Equal([1f, 2f, 3f, 4f], decoded.Inputs[0].ToArray<float>());
                Assert.Equal(["x", "yz"], decoded.Inputs[1].ToStrings());
                Assert.Equal(original.Outputs, decoded.Outputs);
            }
        }
    }

    private static InferenceRequest Decode(string json)
    {
        var error = KServeRequestDecoder.Decode(Encoding.UTF8.GetBytes(json), -1, "m", null, Limits, out var request);
        Assert.Null(error);
        return request!;
    }
}
