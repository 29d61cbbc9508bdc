using Turbine.Protocols.Grpc;

namespace Turbine.Protocols.Tests;

public sealed class GrpcParameterTests
{
    [Theory]
    [InlineData(0UL, 0L)]
    [InlineData(9_223_372_036_854_775_807UL, long.MaxValue)]
    public void Uint64_parameters_that_fit_read_as_long(ulong sent, long expected)
    {
        var parameters = new Google.Protobuf.Collections.MapField<string, InferParameter> { ["priority"] = new InferParameter { Uint64Param = sent } };

        Assert.Equal(expected, GrpcInferenceMapper.ToParameters(parameters)!["priority"]);
    }

    [Theory]
    [InlineData(9_223_372_036_854_775_808UL)]
    [InlineData(ulong.MaxValue)]
    public void Uint64_parameters_above_long_max_keep_their_value_and_never_wrap_negative(ulong sent)
    {
        var parameters = new Google.Protobuf.Collections.MapField<string, InferParameter> { ["sequence_id"] = new InferParameter { Uint64Param = sent } };

        var read = GrpcInferenceMapper.ToParameters(parameters)!["sequence_id"];
        var written = new Google.Protobuf.Collections.MapField<string, InferParameter>();
        GrpcInferenceMapper.AddParameters(written, new Dictionary<string, object> { ["sequence_id"] = read });

        Assert.Equal(sent, Assert.IsType<ulong>(read));
        Assert.Equal(sent, written["sequence_id"].Uint64Param); // and round-trips as uint64
    }
}
