using System.Buffers;
using BenchmarkDotNet.Attributes;
using Turbine.Protocols.KServe;

namespace Turbine.MicroBench;

/// <summary>Decoding a KServe v2 request body and encoding a response, per request, as the REST endpoint does.</summary>
public class CodecBenchmarks
{
    private byte[] _json = [];
    private byte[] _binary = [];
    private int _binaryHeaderLength;
    private InferenceResponse _jsonResponse = null!;
    private InferenceResponse _binaryResponse = null!;
    private readonly ArrayBufferWriter<byte> _output = new(1 << 16);

    /// <summary>Floats per request: the tiny MLP's input (16) and the medium MLP's (1024).</summary>
    [Params(16, 1024)]
    public int Features { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_json, _) = Payloads.Body(Features, binary: false);
        (_binary, _binaryHeaderLength) = Payloads.Body(Features, binary: true);
        _jsonResponse = Payloads.Response(Features, binary: false);
        _binaryResponse = Payloads.Response(Features, binary: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _jsonResponse.Dispose();
        _binaryResponse.Dispose();
    }

    [Benchmark]
    public int DecodeJson() => Decode(_json, -1);

    [Benchmark]
    public int DecodeBinary() => Decode(_binary, _binaryHeaderLength);

    [Benchmark]
    public int EncodeJson()
    {
        _output.ResetWrittenCount();
        KServeResponseEncoder.Write(_output, _jsonResponse);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int EncodeBinary()
    {
        _output.ResetWrittenCount();
        KServeResponseEncoder.Write(_output, _binaryResponse);
        return _output.WrittenCount;
    }

    private static int Decode(byte[] body, int headerLength)
    {
        var error = KServeRequestDecoder.Decode(body, headerLength, "mlp", null, KServeLimits.Default, out var request);
        using (request)
        {
            return error is null ? request!.Inputs.Count : throw new InvalidOperationException(error.Message);
        }
    }
}
