using System.Buffers;
using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Turbine.Protocols.KServe;

namespace Turbine.Protocols.Tests;

/// <summary>
/// Property-based fuzzing of the KServe v2 request decoder (SECURITY.md: bad input gets an error, never a crash):
/// thousands of generated bodies per run, from random bytes to nearly valid requests with wrong sizes.
/// </summary>
public sealed class DecoderPropertyTests
{
    private const int Cases = 3000;
    private static readonly string[] TypeNames = ["BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16", "UINT64", "FLOAT", ""];

    [Fact]
    public void Arbitrary_bytes_are_answered_with_an_error_or_a_request_never_an_exception()
    {
        var bodies = ArbMap.Default.GeneratorFor<byte[]>();
        var headerLengths = Gen.Choose(-1, 64);
        Prop.ForAll(Arb.From(bodies), Arb.From(headerLengths), (body, headerLength) => DecodesSafely(body, headerLength))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(Cases));
    }

    [Fact]
    public void Nearly_valid_json_requests_decode_only_when_shape_type_and_data_agree()
    {
        var requests =
            from type in Gen.Elements(TypeNames)
            from dims in Gen.ListOf(Gen.Choose(-2, 4)).Select(d => d.Take(3).ToArray())
            from count in Gen.Choose(0, 12)
            from numbers in Gen.ArrayOf(Gen.Choose(-300, 300)).Select(n => n.Take(count).ToArray())
            from quoted in ArbMap.Default.GeneratorFor<bool>()
            select (type, dims, numbers, quoted);

        Prop.ForAll(Arb.From(requests), r =>
        {
            var data = string.Join(",", r.numbers.Select(n => r.quoted ? $"\"{n}\"" : n.ToString(CultureInfo.InvariantCulture)));
            var json = $$"""{"inputs":[{"name":"x","shape":[{{string.Join(",", r.dims)}}],"datatype":"{{r.type}}","data":[{{data}}]}]}""";
            var error = KServeRequestDecoder.Decode(Encoding.UTF8.GetBytes(json), -1, "m", null, KServeLimits.Default, out var request);
            using (request)
            {
                if (error is not null)
                {
                    return error.Code == StatusCode.InvalidArgument && request is null;
                }

                // Accepted: the tensor holds exactly as many elements as the shape says, within the data type's size.
                var tensor = request!.Inputs[0];
                var elements = r.dims.Aggregate(1L, (a, b) => a * b);
                return tensor.ElementCount == elements && elements == r.numbers.Length &&
                       (tensor.DataType == DataType.Bytes || tensor.Data.Length == elements * tensor.DataType.ElementSize());
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Cases));
    }

    [Fact]
    public void Binary_bodies_with_wrong_sizes_or_header_lengths_never_throw()
    {
        var bodies =
            from declared in Gen.Choose(-8, 80)
            from tail in ArbMap.Default.GeneratorFor<byte[]>()
            from headerSlack in Gen.Choose(-5, 5)
            select (declared, tail, headerSlack);

        Prop.ForAll(Arb.From(bodies), b =>
        {
            var header = Encoding.UTF8.GetBytes($$$"""{"inputs":[{"name":"x","shape":[2,4],"datatype":"FP32","parameters":{"binary_data_size":{{{b.declared}}}}}]}""");
            byte[] body = [.. header, .. b.tail];
            return DecodesSafely(body, header.Length + b.headerSlack);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Cases));
    }

    [Fact]
    public void Whatever_the_encoder_writes_the_decoder_reads_back_bit_for_bit()
    {
        var tensors =
            from rows in Gen.Choose(1, 4)
            from columns in Gen.Choose(1, 6)
            from values in Gen.ArrayOf(ArbMap.Default.GeneratorFor<int>()).Select(v => v.Length >= rows * columns ? v[..(rows * columns)] : [.. v, .. new int[rows * columns - v.Length]])
            from binary in ArbMap.Default.GeneratorFor<bool>()
            select (rows, columns, values, binary);

        Prop.ForAll(Arb.From(tensors), t =>
        {
            using var sent = new InferenceRequest { ModelName = "m" };
            sent.Inputs.Add(Tensor.FromArray<int>("x", [t.rows, t.columns], t.values));
            var body = new ArrayBufferWriter<byte>();
            var headerLength = KServeRequestEncoder.Write(body, sent, t.binary);

            var error = KServeRequestDecoder.Decode(body.WrittenSpan, headerLength, "m", null, KServeLimits.Default, out var received);
            using (received)
            {
                return error is null && received!.Inputs[0].Data.Span.SequenceEqual(sent.Inputs[0].Data.Span);
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Cases));
    }

    private static bool DecodesSafely(byte[] body, int headerLength)
    {
        var error = KServeRequestDecoder.Decode(body, headerLength, "m", null, KServeLimits.Default, out var request);
        request?.Dispose();
        return error is not null ? request is null : request is not null;
    }
}
