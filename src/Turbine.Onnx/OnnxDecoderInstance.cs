using Microsoft.ML.OnnxRuntime;

namespace Turbine.Onnx;

/// <summary>
/// A decoder exported in the Hugging Face Optimum layout (<c>input_ids</c>, <c>attention_mask</c>, <c>position_ids</c>,
/// <c>past_key_values.N.key|value</c> in; <c>logits</c>, <c>present.N.key|value</c> out), run one step at a time by the
/// generation engine. The cache's shape comes from the model's own input declarations.
/// </summary>
public sealed class OnnxDecoderInstance : IDecoderInstance
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    private OnnxDecoderInstance(InferenceSession session, DecoderSpec spec, DecoderTensorNames names)
    {
        _session = session;
        Spec = spec;
        _inputNames = [names.InputIds, names.AttentionMask, names.PositionIds,
            .. Enumerable.Range(0, spec.Layers).SelectMany(l => new[] { DecoderTensorNames.ForLayer(names.PastKey, l), DecoderTensorNames.ForLayer(names.PastValue, l) })];
        _outputNames = [names.Logits,
            .. Enumerable.Range(0, spec.Layers).SelectMany(l => new[] { DecoderTensorNames.ForLayer(names.PresentKey, l), DecoderTensorNames.ForLayer(names.PresentValue, l) })];
    }

    /// <inheritdoc />
    public DecoderSpec Spec { get; }

    /// <inheritdoc />
    /// <remarks>The previous output's present tensors are handed to ONNX Runtime as this step's past inputs, in place.</remarks>
    public bool ContinuesFromOutput => true;

    /// <summary>Loads a decoder from an ONNX file or its bytes.</summary>
    /// <exception cref="InferenceException">The model is not a decoder of that layout.</exception>
    public static OnnxDecoderInstance Load(byte[] model, OnnxRuntimeSettings? settings = null, DecoderTensorNames? names = null)
    {
        using var options = OnnxSessionFactory.CreateOptions(settings ?? OnnxRuntimeSettings.Default);
        return Open(new InferenceSession(model, options), names ?? DecoderTensorNames.Optimum);
    }

    /// <inheritdoc cref="Load(byte[], OnnxRuntimeSettings?, DecoderTensorNames?)"/>
    public static OnnxDecoderInstance Load(string modelPath, OnnxRuntimeSettings? settings = null, DecoderTensorNames? names = null)
    {
        using var options = OnnxSessionFactory.CreateOptions(settings ?? OnnxRuntimeSettings.Default);
        try
        {
            return Open(new InferenceSession(modelPath, options), names ?? DecoderTensorNames.Optimum);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InferenceException($"ONNX Runtime cannot load the decoder: {e.Message}");
        }
    }

    private static OnnxDecoderInstance Open(InferenceSession session, DecoderTensorNames names)
    {
        try
        {
            return new OnnxDecoderInstance(session, ReadSpec(session, names), names);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public InferenceError? Run(DecoderStep pass, out DecoderOutput? output)
    {
        ArgumentNullException.ThrowIfNull(pass);
        output = null;
        var (batch, sequence, total) = (pass.Batch, pass.Sequence, pass.Past + pass.Sequence);
        var owned = new List<OrtValue>(_inputNames.Length);
        var values = new List<OrtValue>(_inputNames.Length);
        try
        {
            values.Add(Own(OrtValue.CreateTensorValueFromMemory(pass.InputIds, [batch, sequence])));
            values.Add(Own(OrtValue.CreateTensorValueFromMemory(pass.AttentionMask, [batch, total])));
            values.Add(Own(OrtValue.CreateTensorValueFromMemory(pass.PositionIds, [batch, sequence])));
            if (pass.PastFrom is OrtDecoderOutput previous)
            {
                values.AddRange(previous.PresentValues); // the previous step's cache, in place: the caller keeps it alive
            }
            else
            {
                foreach (var past in pass.PastKeyValues)
                {
                    values.Add(Own(OrtValue.CreateTensorValueFromMemory(past, [batch, Spec.KvHeads, pass.Past, Spec.HeadWidth])));
                }
            }

            output = new OrtDecoderOutput(_session.Run(_runOptions, _inputNames, values, _outputNames), sequence, Spec.Vocabulary);
            return null;
        }
        catch (OnnxRuntimeException e)
        {
            return InferenceError.Internal("the decoder's forward pass failed") with { Detail = e.Message };
        }
        finally
        {
            foreach (var value in owned)
            {
                value.Dispose();
            }
        }

        OrtValue Own(OrtValue value)
        {
            owned.Add(value);
            return value;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    /// <summary>The outputs as ONNX Runtime returned them, read in place until disposed.</summary>
    private sealed class OrtDecoderOutput(IDisposableReadOnlyCollection<OrtValue> results, int sequence, int vocabulary) : DecoderOutput
    {
        public override ReadOnlySpan<float> Logits(int row) =>
            results[0].GetTensorDataAsSpan<float>().Slice(((row * sequence) + sequence - 1) * vocabulary, vocabulary);

        public override ReadOnlySpan<float> Present(int kind) => results[1 + kind].GetTensorDataAsSpan<float>();

        /// <summary>The present tensors, layer by layer, key then value: the next step's past.</summary>
        public IEnumerable<OrtValue> PresentValues => results.Skip(1);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                results.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private static DecoderSpec ReadSpec(InferenceSession session, DecoderTensorNames names)
    {
        var inputs = session.InputMetadata;
        var firstKey = DecoderTensorNames.ForLayer(names.PastKey, 0);
        foreach (var name in new[] { names.InputIds, names.AttentionMask, names.PositionIds, firstKey })
        {
            if (!inputs.ContainsKey(name))
            {
                throw new InferenceException($"the model has no input '{name}': a decoder takes its token ids, attention mask, positions and each layer's past keys and values (the Optimum layout's names unless the configuration's llm.tensors names others)");
            }
        }

        var layers = 0;
        while (inputs.ContainsKey(DecoderTensorNames.ForLayer(names.PastKey, layers)))
        {
            layers++;
        }

        for (var layer = 0; layer < layers; layer++)
        {
            foreach (var (name, outputs) in new[] { (names.PastValue, false), (names.PresentKey, true), (names.PresentValue, true) })
            {
                var tensor = DecoderTensorNames.ForLayer(name, layer);
                if (!(outputs ? session.OutputMetadata.ContainsKey(tensor) : inputs.ContainsKey(tensor)))
                {
                    throw new InferenceException($"the model has no {(outputs ? "output" : "input")} '{tensor}' for layer {layer}");
                }
            }
        }

        var kv = inputs[firstKey].Dimensions;
        var logits = session.OutputMetadata.TryGetValue(names.Logits, out var output) ? output.Dimensions : throw new InferenceException($"the model has no output '{names.Logits}'");
        if (kv.Length != 4 || kv[1] <= 0 || kv[3] <= 0 || logits.Length != 3 || logits[2] <= 0)
        {
            throw new InferenceException("past_key_values.N.key must be [batch, heads, past, head width] and logits [batch, sequence, vocabulary] with fixed heads, head width and vocabulary");
        }

        return new DecoderSpec(layers, kv[1], kv[3], logits[2]);
    }
}
