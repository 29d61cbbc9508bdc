namespace Turbine;

/// <summary>The shape of a decoder's key/value cache and vocabulary, read from the model.</summary>
/// <param name="Layers">Layers, each with a key and a value cache.</param>
/// <param name="KvHeads">Key/value heads.</param>
/// <param name="HeadWidth">Values per head and position.</param>
/// <param name="Vocabulary">Logits per position.</param>
public sealed record DecoderSpec(int Layers, int KvHeads, int HeadWidth, int Vocabulary)
{
    /// <summary>Floats one position takes in one layer's key (or value) cache.</summary>
    public int PositionWidth => KvHeads * HeadWidth;
}

/// <summary>
/// One forward pass over a step batch: <see cref="Batch"/> rows of <see cref="Sequence"/> new tokens each (a shorter row
/// left-padded and masked) after <see cref="Past"/> cached positions (a shorter cache left-padded and masked), as the
/// Hugging Face Optimum layout takes them. Arrays are row-major; the caller owns them.
/// </summary>
public sealed class DecoderStep
{
    /// <summary>Rows.</summary>
    public required int Batch { get; init; }

    /// <summary>New positions per row.</summary>
    public required int Sequence { get; init; }

    /// <summary>Cached positions per row.</summary>
    public required int Past { get; init; }

    /// <summary>[batch, sequence] token ids.</summary>
    public required long[] InputIds { get; init; }

    /// <summary>[batch, past + sequence]: 1 for a real position, 0 for padding.</summary>
    public required long[] AttentionMask { get; init; }

    /// <summary>[batch, sequence]: each new token's position in its own sequence.</summary>
    public required long[] PositionIds { get; init; }

    /// <summary>Per layer, key then value: [batch, heads, past, head width]; unused when <see cref="PastFrom"/> is set.</summary>
    public required float[][] PastKeyValues { get; init; }

    /// <summary>
    /// The previous step's output, whose present tensors are this step's past as they are (the same rows in the same
    /// order, <see cref="Past"/> their length): no copy of the cache. Only for decoders that
    /// <see cref="IDecoderInstance.ContinuesFromOutput"/>; the caller disposes it after this step.
    /// </summary>
    public DecoderOutput? PastFrom { get; init; }
}

/// <summary>
/// What a forward pass gives back, read in place from the runtime's buffers (no copy of the whole cache): each row's
/// logits at its last position, and the cache with the new positions. Valid until disposed; the caller disposes it.
/// </summary>
public abstract class DecoderOutput : IDisposable
{
    /// <summary>Row <paramref name="row"/>'s logits at its last position: [vocabulary].</summary>
    public abstract ReadOnlySpan<float> Logits(int row);

    /// <summary>Layer <c>kind / 2</c>'s key (even <paramref name="kind"/>) or value (odd) cache: [batch, heads, past + sequence, head width].</summary>
    public abstract ReadOnlySpan<float> Present(int kind);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the runtime's buffers.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>
/// A decoder model loaded for generation (the seam between the generation engine and a runtime): one forward pass
/// at a time, over a batch whose rows may be at any point of their sequences. Implemented by the ONNX backend.
/// </summary>
public interface IDecoderInstance : IDisposable
{
    /// <summary>The model's cache shape and vocabulary.</summary>
    DecoderSpec Spec { get; }

    /// <summary>Whether a step can take the previous step's output as its past (<see cref="DecoderStep.PastFrom"/>).</summary>
    bool ContinuesFromOutput => false;

    /// <summary>Runs one step; an error for a failure of the runtime.</summary>
    InferenceError? Run(DecoderStep pass, out DecoderOutput? output);
}

/// <summary>
/// The names of a decoder's tensors: the Hugging Face Optimum layout by default; a model exported otherwise names its
/// own. The per-layer names hold <c>{layer}</c> where the layer's number goes.
/// </summary>
public sealed record DecoderTensorNames
{
    /// <summary>The Optimum layout's names.</summary>
    public static DecoderTensorNames Optimum { get; } = new();

    /// <summary>The token ids input [batch, sequence].</summary>
    public string InputIds { get; init; } = "input_ids";

    /// <summary>The attention mask input [batch, past + sequence].</summary>
    public string AttentionMask { get; init; } = "attention_mask";

    /// <summary>The positions input [batch, sequence].</summary>
    public string PositionIds { get; init; } = "position_ids";

    /// <summary>Each layer's past keys input [batch, heads, past, head width].</summary>
    public string PastKey { get; init; } = "past_key_values.{layer}.key";

    /// <summary>Each layer's past values input.</summary>
    public string PastValue { get; init; } = "past_key_values.{layer}.value";

    /// <summary>The logits output [batch, sequence, vocabulary].</summary>
    public string Logits { get; init; } = "logits";

    /// <summary>Each layer's keys output, past and new positions.</summary>
    public string PresentKey { get; init; } = "present.{layer}.key";

    /// <summary>Each layer's values output.</summary>
    public string PresentValue { get; init; } = "present.{layer}.value";

    /// <summary>A per-layer name with the layer's number in place.</summary>
    public static string ForLayer(string pattern, int layer)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return pattern.Replace("{layer}", layer.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}

/// <summary>A backend that can load a model for generation as well as for plain runs (the ONNX backend).</summary>
public interface IDecoderBackend
{
    /// <summary>Loads the decoder at <paramref name="modelPath"/>, whose tensors are named <paramref name="names"/>. Expensive: called at load, never per request.</summary>
    /// <exception cref="InferenceException">The model is not a decoder this backend can run.</exception>
    IDecoderInstance CreateDecoder(string modelPath, DecoderTensorNames names);
}
