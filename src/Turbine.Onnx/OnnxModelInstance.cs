using System.Buffers;
using System.Buffers.Binary;
using Microsoft.ML.OnnxRuntime;

namespace Turbine.Onnx;

/// <summary>
/// One ONNX Runtime session. Inputs are handed to the runtime in place (pinned tensor buffers wrapped as OrtValues,
/// no copy); outputs are copied once into pooled buffers so the runtime's memory is freed at once.
/// Driven by one run at a time, so the per-call arrays below are reused without locking; a sibling shares the session
/// (ONNX Runtime takes concurrent runs on one session) with arrays of its own.
/// </summary>
internal sealed class OnnxModelInstance : IModelInstance
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly ModelConfig _config;
    private readonly TensorConfig[] _inputs;
    private readonly string[] _inputNames;
    private readonly OrtValue[] _inputValues;
    private readonly MemoryHandle[] _pins;
    private readonly Dictionary<int, string[]> _outputNameCache = [];
    private readonly bool _ownsSession;

    public OnnxModelInstance(InferenceSession session, ModelConfig config, bool ownsSession = true)
    {
        _session = session;
        _config = config;
        _ownsSession = ownsSession;
        _inputs = [.. config.ModelInputs]; // a stateful model's control and state inputs too, which its runner fills
        _inputNames = new string[_inputs.Length];
        for (var i = 0; i < _inputNames.Length; i++)
        {
            _inputNames[i] = _inputs[i].Name;
        }

        _inputValues = new OrtValue[_inputNames.Length];
        _pins = new MemoryHandle[_inputNames.Length];
    }

    public InferenceError? Run(IReadOnlyList<Tensor> inputs, IReadOnlyList<TensorConfig> outputs, List<Tensor> results)
    {
        var created = 0;
        try
        {
            for (; created < inputs.Count; created++)
            {
                _inputValues[created] = CreateInput(inputs[created], _inputs[created], ref _pins[created]);
            }

            using var values = _session.Run(_runOptions, _inputNames, _inputValues, OutputNames(outputs));
            var index = 0;
            foreach (var value in values)
            {
                var output = outputs[index++];
                results.Add(CopyOutput(output.Name, value, output.Reshape is null ? null : output.Dims));
            }

            return null;
        }
        catch (OnnxRuntimeException e)
        {
            return InferenceError.Internal("model execution failed") with { Detail = e.Message };
        }
        finally
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                if (i < created)
                {
                    _inputValues[i].Dispose();
                }

                _pins[i].Dispose(); // also the pin of an input whose OrtValue failed to be created; a no-op when unset
                _pins[i] = default;
            }
        }
    }

    public IModelInstance? CreateSibling() => new OnnxModelInstance(_session, _config, ownsSession: false);

    public void Dispose()
    {
        _runOptions.Dispose();
        if (_ownsSession)
        {
            _session.Dispose();
        }
    }

    private OrtValue CreateInput(Tensor tensor, TensorConfig config, ref MemoryHandle pin)
    {
        var shape = ModelShape(tensor.Shape, config);
        if (tensor.DataType == DataType.Bytes)
        {
            return CreateStringInput(tensor, shape);
        }

        pin = tensor.Data.Memory.Pin();
        nint address;
        unsafe
        {
            address = (nint)pin.Pointer;
        }

        return OrtValue.CreateTensorValueWithData(
            OrtMemoryInfo.DefaultInstance, OnnxDataTypes.ToRuntime(tensor.DataType), shape, address, tensor.Data.Length);
    }

    private long[] ModelShape(long[] requestShape, TensorConfig config)
    {
        if (config.Reshape is null)
        {
            return requestShape;
        }

        return _config.MaxBatchSize > 0 ? [requestShape[0], .. config.Reshape] : config.Reshape;
    }

    private static OrtValue CreateStringInput(Tensor tensor, long[] shape)
    {
        var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
        ReadOnlySpan<byte> span = tensor.Data.Span;
        for (var index = 0; span.Length >= 4; index++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(span);
            value.StringTensorSetElementAt(span.Slice(4, length), index);
            span = span[(4 + length)..];
        }

        return value;
    }

    /// <summary>Copies an output out of the runtime; with a configured reshape, the client sees the config's dims.</summary>
    private Tensor CopyOutput(string name, OrtValue value, long[]? configuredDims)
    {
        var info = value.GetTensorTypeAndShape();
        var type = OnnxDataTypes.FromRuntime(info.ElementDataType);
        var shape = info.Shape;
        if (configuredDims is not null)
        {
            shape = _config.MaxBatchSize > 0 && shape.Length > 0 ? [shape[0], .. configuredDims] : configuredDims;
        }

        if (type != DataType.Bytes)
        {
            return new Tensor(name, type, shape, TensorBuffer.CopyOf(value.GetTensorMutableRawData()));
        }

        var count = (int)info.ElementCount;
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            total += 4 + value.GetStringElementAsSpan(i).Length;
        }

        var buffer = TensorBuffer.Rent(total);
        var destination = buffer.Span;
        for (var i = 0; i < count; i++)
        {
            var element = value.GetStringElementAsSpan(i);
            BinaryPrimitives.WriteInt32LittleEndian(destination, element.Length);
            element.CopyTo(destination[4..]);
            destination = destination[(4 + element.Length)..];
        }

        return new Tensor(name, DataType.Bytes, shape, buffer);
    }

    private string[] OutputNames(IReadOnlyList<TensorConfig> outputs)
    {
        // Requests usually ask for the same outputs every time; cache the name arrays by a cheap key.
        var key = outputs.Count;
        foreach (var output in outputs)
        {
            key = HashCode.Combine(key, output.Name);
        }

        if (_outputNameCache.TryGetValue(key, out var cached) && Matches(cached, outputs))
        {
            return cached;
        }

        var names = new string[outputs.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = outputs[i].Name;
        }

        if (_outputNameCache.Count < 64)
        {
            _outputNameCache[key] = names;
        }

        return names;
    }

    private static bool Matches(string[] names, IReadOnlyList<TensorConfig> outputs)
    {
        if (names.Length != outputs.Count)
        {
            return false;
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (!string.Equals(names[i], outputs[i].Name, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
