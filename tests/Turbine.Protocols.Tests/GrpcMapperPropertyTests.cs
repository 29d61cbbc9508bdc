using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Turbine.Protocols.Grpc;
using Turbine.Protocols.KServe;

namespace Turbine.Protocols.Tests;

/// <summary>
/// Property-based fuzzing of the gRPC request mapper: random shapes, data types, raw contents of random length and
/// typed contents, several inputs; the mapper answers every message with a request whose tensors hold exactly what
/// their shapes say, or with InvalidArgument, never an exception.
/// </summary>
public sealed class GrpcMapperPropertyTests
{
    private const int Cases = 3000;
    private static readonly string[] TypeNames = ["BOOL", "UINT8", "INT8", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16", "FLOAT", ""];

    [Fact]
    public void Random_messages_map_to_consistent_tensors_or_to_invalid_argument()
    {
        var inputs =
            from type in Gen.Elements(TypeNames)
            from dims in Gen.ListOf(Gen.Choose(-2, 5)).Select(d => d.Take(4).ToArray())
            from raw in Gen.Choose(0, 3).SelectMany(kind => kind switch
            {
                0 => Gen.Constant<byte[]?>(null),
                _ => Gen.Choose(0, 96).Select(n => (byte[]?)new byte[n]),
            })
            from typed in Gen.ArrayOf(Gen.Choose(-5, 5)).Select(v => v.Take(16).ToArray())
            select (type, dims, raw, typed);
        var messages = Gen.ListOf(inputs).Select(list => list.Take(3).ToArray());

        Prop.ForAll(Arb.From(messages), specs =>
        {
            var message = new ModelInferRequest { ModelName = "m" };
            foreach (var (type, dims, raw, typed) in specs)
            {
                var tensor = new ModelInferRequest.Types.InferInputTensor { Name = "x" + message.Inputs.Count, Datatype = type };
                tensor.Shape.AddRange(dims.Select(d => (long)d));
                if (raw is not null)
                {
                    message.RawInputContents.Add(ByteString.CopyFrom(raw));
                }
                else
                {
                    tensor.Contents = new InferTensorContents();
                    tensor.Contents.IntContents.AddRange(typed);
                }

                message.Inputs.Add(tensor);
            }

            InferenceError? error;
            InferenceRequest? request;
            try
            {
                error = GrpcInferenceMapper.FromGrpc(message, KServeLimits.Default, out request);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"the mapper threw on {message}", e);
            }

            using (request)
            {
                if (error is not null)
                {
                    return error.Code == StatusCode.InvalidArgument && request is null;
                }

                return request!.Inputs.All(t => t.ElementCount >= 0 &&
                    (t.DataType == DataType.Bytes || t.Data.Length == t.ElementCount * t.DataType.ElementSize()));
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Cases));
    }
}
