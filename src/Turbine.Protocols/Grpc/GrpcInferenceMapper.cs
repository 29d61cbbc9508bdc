using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Turbine.Protocols.KServe;

namespace Turbine.Protocols.Grpc;

/// <summary>
/// Maps gRPC inference messages to Turbine requests and responses. Inputs come from <c>raw_input_contents</c>
/// (one copy into a pinned buffer) or from the typed <c>*_contents</c> fields; outputs always go back as
/// <c>raw_output_contents</c>, as Triton does.
/// </summary>
public static class GrpcInferenceMapper
{
    /// <summary>
    /// Decodes a gRPC request; the caller disposes the request it gets. <paramref name="check"/>, when given, sees
    /// each input's name, type and shape before its contents are copied.
    /// </summary>
    /// <remarks>
    /// <paramref name="sharedMemory"/> holds the registered shared-memory regions, for inputs placed in one (they take no
    /// raw_input_contents entry, as Triton's clients send them); null when the extension is off.
    /// </remarks>
    public static InferenceError? FromGrpc(ModelInferRequest message, KServeLimits limits, out InferenceRequest? request, InputSpecCheck? check = null, ISharedMemory? sharedMemory = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(limits);
        request = null;
        var places = new SharedMemoryRef?[message.Inputs.Count];
        var inMemory = 0;
        for (var i = 0; i < places.Length; i++)
        {
            var input = message.Inputs[i];
            if (input.Parameters.Count > 0 && SharedMemoryParameters.Read(ToParameters(input.Parameters), input.Name, out places[i]) is { } malformed)
            {
                return malformed;
            }

            inMemory += places[i] is null ? 0 : 1;
        }

        var carried = message.Inputs.Count - inMemory;
        if (message.RawInputContents.Count > 0 && message.RawInputContents.Count != carried)
        {
            return InferenceError.Invalid(
                $"raw_input_contents has {message.RawInputContents.Count} entries but the request has {carried} inputs{(inMemory > 0 ? " outside shared memory" : "")}; give one per input or none");
        }

        var parsed = new InferenceRequest
        {
            ModelName = message.ModelName,
            ModelVersion = message.ModelVersion,
            Id = message.Id.Length == 0 ? null : message.Id,
            Parameters = ToParameters(message.Parameters),
        };
        if (parsed.Parameters?.TryGetValue("binary_data_output", out var binary) == true && binary is true)
        {
            parsed.BinaryDataOutputByDefault = true;
        }

        var raw = 0;
        for (var i = 0; i < message.Inputs.Count; i++)
        {
            var input = message.Inputs[i];
            var error = places[i] is { } place
                ? DecodeSharedInput(input, place, limits, check, sharedMemory, out var tensor)
                : DecodeInput(input, message.RawInputContents.Count > 0 ? message.RawInputContents[raw++] : null, limits, check, out tensor);
            if (error is not null)
            {
                parsed.Dispose();
                return error;
            }

            parsed.Inputs.Add(tensor!);
        }

        foreach (var output in message.Outputs)
        {
            var classCount = 0;
            if (output.Parameters.TryGetValue(Classification.Parameter, out var classes) &&
                !Classification.TryReadCount(classes.ParameterChoiceCase switch
                {
                    InferParameter.ParameterChoiceOneofCase.Int64Param => classes.Int64Param,
                    InferParameter.ParameterChoiceOneofCase.Uint64Param => classes.Uint64Param,
                    _ => null,
                }, out classCount))
            {
                parsed.Dispose();
                return Classification.BadCount(output.Name);
            }

            if (SharedMemoryParameters.Read(ToParameters(output.Parameters), output.Name, out var outputPlace) is { } misplaced)
            {
                parsed.Dispose();
                return misplaced;
            }

            parsed.Outputs.Add(new RequestedOutput(output.Name, ClassCount: classCount, SharedMemory: outputPlace));
        }

        request = parsed;
        return null;
    }

    private static InferenceError? DecodeSharedInput(
        ModelInferRequest.Types.InferInputTensor input, SharedMemoryRef place, KServeLimits limits, InputSpecCheck? check, ISharedMemory? sharedMemory, out Tensor? tensor)
    {
        tensor = null;
        var error = ReadHeader(input, check, out var type, out var shape, out var count);
        if (error is not null)
        {
            return error;
        }

        if (input.Contents is not null)
        {
            return InferenceError.Invalid($"input '{input.Name}' has both contents and a shared-memory region; use one");
        }

        error = SharedMemoryInput.Read(sharedMemory, place, input.Name, type, count, limits, out var buffer);
        if (error is null)
        {
            tensor = new Tensor(input.Name, type, shape!, buffer!);
        }

        return error;
    }

    /// <summary>An input's datatype and shape, checked against the model's spec before any data is looked at.</summary>
    private static InferenceError? ReadHeader(ModelInferRequest.Types.InferInputTensor input, InputSpecCheck? check, out Turbine.DataType type, out long[]? shape, out long count)
    {
        shape = null;
        count = 0;
        if (!DataTypes.TryParse(input.Datatype, out type))
        {
            return InferenceError.Invalid($"input '{input.Name}': datatype '{ClientText.Quote(input.Datatype)}' is not a KServe data type");
        }

        if (input.Shape.Count > Shapes.MaxRank)
        {
            return InferenceError.Invalid($"input '{input.Name}': shape has more than {Shapes.MaxRank} dimensions");
        }

        shape = input.Shape.ToArray();
        if (!Shapes.TryGetElementCount(shape, out count))
        {
            return InferenceError.Invalid($"input '{input.Name}': shape {Shapes.Format(shape)} must hold non-negative dimensions of a reasonable size");
        }

        return check?.Invoke(input.Name, type, shape);
    }

    private static InferenceError? DecodeInput(ModelInferRequest.Types.InferInputTensor input, ByteString? raw, KServeLimits limits, InputSpecCheck? check, out Tensor? tensor)
    {
        tensor = null;
        if (ReadHeader(input, check, out var type, out var shape, out var count) is { } refused)
        {
            return refused;
        }

        var hasContents = input.Contents is not null;
        if (raw is not null && hasContents)
        {
            return InferenceError.Invalid($"input '{input.Name}' has both contents and raw_input_contents; use one");
        }

        if (raw is null && !hasContents)
        {
            return InferenceError.Invalid($"input '{input.Name}' has no contents and no raw_input_contents");
        }

        if (type != Turbine.DataType.Bytes && !Shapes.TryGetByteSize(count, type, limits.MaxTensorBytes, out _))
        {
            return InferenceError.Invalid($"input '{input.Name}' would need more than {limits.MaxTensorBytes} bytes; the shape is too large");
        }

        TensorBuffer buffer;
        if (raw is not null)
        {
            if (type != Turbine.DataType.Bytes && raw.Length != count * type.ElementSize())
            {
                return InferenceError.Invalid($"unexpected total byte size {raw.Length} for input '{input.Name}', expecting {count * type.ElementSize()}");
            }

            buffer = TensorBuffer.CopyOf(raw.Span);
        }
        else
        {
            var error = FromContents(input.Name, type, count, input.Contents!, out buffer!);
            if (error is not null)
            {
                return error;
            }
        }

        tensor = new Tensor(input.Name, type, shape!, buffer);
        return null;
    }

    private static InferenceError? FromContents(string name, Turbine.DataType type, long count, InferTensorContents contents, out TensorBuffer? buffer)
    {
        buffer = null;
        long actual;
        switch (type)
        {
            case Turbine.DataType.Bool:
                actual = contents.BoolContents.Count;
                if (actual == count)
                {
                    buffer = TensorBuffer.Rent((int)count);
                    for (var i = 0; i < count; i++)
                    {
                        buffer.Span[i] = contents.BoolContents[i] ? (byte)1 : (byte)0;
                    }
                }

                break;
            case Turbine.DataType.Int8: actual = Narrow(contents.IntContents, count, v => (sbyte)v, v => v is >= sbyte.MinValue and <= sbyte.MaxValue, ref buffer); break;
            case Turbine.DataType.Int16: actual = Narrow(contents.IntContents, count, v => (short)v, v => v is >= short.MinValue and <= short.MaxValue, ref buffer); break;
            case Turbine.DataType.Int32: actual = Narrow(contents.IntContents, count, v => v, _ => true, ref buffer); break;
            case Turbine.DataType.Int64: actual = Narrow(contents.Int64Contents, count, v => v, _ => true, ref buffer); break;
            case Turbine.DataType.UInt8: actual = Narrow(contents.UintContents, count, v => (byte)v, v => v <= byte.MaxValue, ref buffer); break;
            case Turbine.DataType.UInt16: actual = Narrow(contents.UintContents, count, v => (ushort)v, v => v <= ushort.MaxValue, ref buffer); break;
            case Turbine.DataType.UInt32: actual = Narrow(contents.UintContents, count, v => v, _ => true, ref buffer); break;
            case Turbine.DataType.UInt64: actual = Narrow(contents.Uint64Contents, count, v => v, _ => true, ref buffer); break;
            case Turbine.DataType.Fp32: actual = Narrow(contents.Fp32Contents, count, v => v, _ => true, ref buffer); break;
            case Turbine.DataType.Fp64: actual = Narrow(contents.Fp64Contents, count, v => v, _ => true, ref buffer); break;
            case Turbine.DataType.Bytes:
                actual = contents.BytesContents.Count;
                if (actual == count)
                {
                    var elements = new byte[actual][];
                    for (var i = 0; i < actual; i++)
                    {
                        elements[i] = contents.BytesContents[i].ToByteArray();
                    }

                    using var temporary = Tensor.FromBytes(name, [actual], elements);
                    buffer = TensorBuffer.CopyOf(temporary.Data.Span);
                }

                break;
            default:
                return InferenceError.Invalid($"input '{name}': {type.ToWireName()} data can only be sent in raw_input_contents");
        }

        if (buffer is null)
        {
            return actual == count
                ? InferenceError.Invalid($"input '{name}': a value in the contents does not fit {type.ToWireName()}")
                : InferenceError.Invalid($"input '{name}': contents hold {actual} elements but the shape needs {count}");
        }

        return null;
    }

    private static long Narrow<TSource, TTarget>(RepeatedField<TSource> values, long count, Func<TSource, TTarget> convert, Func<TSource, bool> fits, ref TensorBuffer? buffer)
        where TTarget : unmanaged
    {
        if (values.Count != count)
        {
            return values.Count;
        }

        var size = Marshal.SizeOf<TTarget>();
        var rented = TensorBuffer.Rent((int)count * size);
        var span = MemoryMarshal.Cast<byte, TTarget>(rented.Span);
        for (var i = 0; i < values.Count; i++)
        {
            if (!fits(values[i]))
            {
                rented.Dispose();
                return values.Count;
            }

            span[i] = convert(values[i]);
        }

        buffer = rented;
        return values.Count;
    }

    /// <summary>Encodes a response; every output goes into <c>raw_output_contents</c>.</summary>
    /// <remarks>Outputs placed in shared memory (<paramref name="places"/>) carry their place as parameters and no raw contents.</remarks>
    public static ModelInferResponse ToGrpc(InferenceResponse response, SharedMemoryRef?[]? places = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        var message = new ModelInferResponse
        {
            ModelName = response.ModelName,
            ModelVersion = response.ModelVersion,
            Id = response.Id ?? string.Empty,
        };
        AddParameters(message.Parameters, response.Parameters);

        for (var i = 0; i < response.Outputs.Count; i++)
        {
            var output = response.Outputs[i];
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = output.DataType.ToWireName() };
            tensor.Shape.AddRange(output.Shape);
            message.Outputs.Add(tensor);
            if (places?[i] is { } place)
            {
                AddParameters(tensor.Parameters, SharedMemoryOutputs.ParametersOf(place));
            }
            else
            {
                message.RawOutputContents.Add(ByteString.CopyFrom(output.Data.Span));
            }
        }

        return message;
    }

    /// <summary>Writes protocol-neutral parameters as gRPC ones: booleans, integers and reals keep their kind, the rest become strings.</summary>
    public static void AddParameters(MapField<string, InferParameter> message, IReadOnlyDictionary<string, object>? parameters)
    {
        ArgumentNullException.ThrowIfNull(message);
        foreach (var (name, value) in parameters ?? new Dictionary<string, object>())
        {
            message[name] = value switch
            {
                bool flag => new InferParameter { BoolParam = flag },
                int number => new InferParameter { Int64Param = number },
                long number => new InferParameter { Int64Param = number },
                ulong number => new InferParameter { Uint64Param = number },
                double real => new InferParameter { DoubleParam = real },
                _ => new InferParameter { StringParam = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty },
            };
        }
    }

    /// <summary>Turns gRPC parameters into the protocol-neutral form.</summary>
    public static Dictionary<string, object>? ToParameters(MapField<string, InferParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0)
        {
            return null;
        }

        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            result[name] = value.ParameterChoiceCase switch
            {
                InferParameter.ParameterChoiceOneofCase.BoolParam => value.BoolParam,
                InferParameter.ParameterChoiceOneofCase.Int64Param => value.Int64Param,
                // Values that fit stay long, as every other integer parameter is; larger ones stay unsigned, never wrap negative.
                InferParameter.ParameterChoiceOneofCase.Uint64Param => value.Uint64Param <= long.MaxValue ? (long)value.Uint64Param : value.Uint64Param,
                InferParameter.ParameterChoiceOneofCase.DoubleParam => value.DoubleParam,
                _ => value.StringParam,
            };
        }

        return result;
    }
}
