namespace Turbine.Onnx.Tools.Samples;

/// <summary>The shape of a generated decoder: vocabulary, width, layers, heads and the longest context.</summary>
/// <param name="Vocabulary">Tokens (50,257 for the GPT-2 tokenizer).</param>
/// <param name="Width">The model width; a multiple of <paramref name="Heads"/>.</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="Context">Positions the position embedding covers.</param>
/// <param name="Seed">Seeds the random weights.</param>
public sealed record DecoderShape(int Vocabulary = 50_257, int Width = 64, int Layers = 2, int Heads = 4, int Context = 1024, int Seed = 7)
{
    /// <summary>The width of one head.</summary>
    public int HeadWidth => Width / Heads;
}

/// <summary>
/// A GPT-2-style decoder with random weights, built in code: token and position embeddings, pre-norm blocks of causal
/// multi-head attention and a ReLU MLP, and a language-model head, with the key/value cache that Hugging Face Optimum
/// exports: inputs <c>input_ids</c> [batch, seq], <c>attention_mask</c> [batch, past + seq], <c>position_ids</c>
/// [batch, seq] and <c>past_key_values.N.key|value</c> [batch, heads, past, head width]; outputs <c>logits</c>
/// [batch, seq, vocabulary] and <c>present.N.key|value</c> [batch, heads, past + seq, head width]. A position may see
/// the cached positions its mask allows and the new ones up to itself, so rows of one batch with caches of different
/// lengths (left-padded, masked) give each row what it would get alone.
/// </summary>
public static class DecoderModel
{
    /// <summary>The model's file bytes.</summary>
    public static byte[] Build(DecoderShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Width % shape.Heads != 0)
        {
            throw new ArgumentException($"the width {shape.Width} is not a multiple of the {shape.Heads} heads", nameof(shape));
        }

        var random = new Random(shape.Seed);
        var (d, h, hd) = (shape.Width, shape.Heads, shape.HeadWidth);
        var builder = new OnnxModelBuilder("decoder")
            .Input("input_ids", DataType.Int64, -1, -1)
            .Input("attention_mask", DataType.Int64, -1, -1)
            .Input("position_ids", DataType.Int64, -1, -1);
        for (var layer = 0; layer < shape.Layers; layer++)
        {
            builder.Input($"past_key_values.{layer}.key", DataType.Fp32, -1, h, -1, hd)
                .Input($"past_key_values.{layer}.value", DataType.Fp32, -1, h, -1, hd);
        }

        builder.Output("logits", DataType.Fp32, -1, -1, shape.Vocabulary);
        for (var layer = 0; layer < shape.Layers; layer++)
        {
            builder.Output($"present.{layer}.key", DataType.Fp32, -1, h, -1, hd)
                .Output($"present.{layer}.value", DataType.Fp32, -1, h, -1, hd);
        }

        builder.Initializer("wte", [shape.Vocabulary, d], Weights(random, shape.Vocabulary * d, 0.1f))
            .Initializer("wpe", [shape.Context, d], Weights(random, shape.Context * d, 0.02f))
            .Initializer("one", [], [1L])
            .Initializer("zero", [], [0L])
            .Initializer("axis0", [1], [0L])
            .Initializer("axis1", [1], [1L])
            .Initializer("axes01", [2], [0L, 1L])
            .Initializer("axes12", [2], [1L, 2L])
            .Initializer("heads_shape", [4], [0L, 0L, h, hd])
            .Initializer("width_shape", [3], [0L, 0L, d])
            .Initializer("scale", [], [1f / MathF.Sqrt(hd)])
            .Initializer("blocked", [], [-1e9f])
            .Initializer("open", [], [0f]);

        // The additive mask, shared by every layer: 0 where a new position may look, -1e9 elsewhere.
        builder.Node("Shape", ["attention_mask"], ["total_1"], ("start", 1L), ("end", 2L))
            .Node("Shape", ["input_ids"], ["seq_1"], ("start", 1L), ("end", 2L))
            .Node("Squeeze", ["total_1", "axis0"], ["total"])
            .Node("Squeeze", ["seq_1", "axis0"], ["seq"])
            .Node("Sub", ["total", "seq"], ["past"])
            .Node("Range", ["zero", "total", "one"], ["key_positions"])
            .Node("Range", ["zero", "seq", "one"], ["new_positions"])
            .Node("Add", ["new_positions", "past"], ["query_positions"])
            .Node("Unsqueeze", ["key_positions", "axis0"], ["key_row"])
            .Node("Unsqueeze", ["query_positions", "axis1"], ["query_column"])
            .Node("LessOrEqual", ["key_row", "query_column"], ["causal"])
            .Node("Unsqueeze", ["causal", "axes01"], ["causal_4d"])
            .Node("Cast", ["attention_mask"], ["mask_bool"], ("to", 9L))
            .Node("Unsqueeze", ["mask_bool", "axes12"], ["mask_4d"])
            .Node("And", ["causal_4d", "mask_4d"], ["allowed"])
            .Node("Where", ["allowed", "open", "blocked"], ["bias"]);

        builder.Node("Gather", ["wte", "input_ids"], ["tokens"])
            .Node("Gather", ["wpe", "position_ids"], ["positions"])
            .Node("Add", ["tokens", "positions"], ["h_0"]);
        for (var layer = 0; layer < shape.Layers; layer++)
        {
            Block(builder, random, shape, layer);
        }

        var last = $"h_{shape.Layers}";
        return LayerNorm(builder, random, last, "final", d)
            .Initializer("lm_head", [d, shape.Vocabulary], Weights(random, d * shape.Vocabulary, 0.5f))
            .Node("MatMul", ["final_out", "lm_head"], ["logits"])
            .ToBytes();
    }

    private static void Block(OnnxModelBuilder builder, Random random, DecoderShape shape, int layer)
    {
        var (d, p) = (shape.Width, $"l{layer}_");
        var input = $"h_{layer}";
        LayerNorm(builder, random, input, p + "ln1", d);
        foreach (var name in new[] { "q", "k", "v" })
        {
            builder.Initializer(p + "w" + name, [d, d], Weights(random, d * d, 0.2f))
                .Node("MatMul", [p + "ln1_out", p + "w" + name], [p + name + "_flat"])
                .Node("Reshape", [p + name + "_flat", "heads_shape"], [p + name + "_heads"])
                .Node("Transpose", [p + name + "_heads"], [p + name], ("perm", new long[] { 0, 2, 1, 3 }));
        }

        builder.Node("Concat", [$"past_key_values.{layer}.key", p + "k"], [$"present.{layer}.key"], ("axis", 2L))
            .Node("Concat", [$"past_key_values.{layer}.value", p + "v"], [$"present.{layer}.value"], ("axis", 2L))
            .Node("Transpose", [$"present.{layer}.key"], [p + "k_t"], ("perm", new long[] { 0, 1, 3, 2 }))
            .Node("MatMul", [p + "q", p + "k_t"], [p + "scores_raw"])
            .Node("Mul", [p + "scores_raw", "scale"], [p + "scores_scaled"])
            .Node("Add", [p + "scores_scaled", "bias"], [p + "scores"])
            .Node("Softmax", [p + "scores"], [p + "attention"], ("axis", -1L))
            .Node("MatMul", [p + "attention", $"present.{layer}.value"], [p + "context_heads"])
            .Node("Transpose", [p + "context_heads"], [p + "context_t"], ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("Reshape", [p + "context_t", "width_shape"], [p + "context"])
            .Initializer(p + "wo", [d, d], Weights(random, d * d, 0.2f))
            .Node("MatMul", [p + "context", p + "wo"], [p + "attended"])
            .Node("Add", [input, p + "attended"], [p + "mid"]);
        LayerNorm(builder, random, p + "mid", p + "ln2", d)
            .Initializer(p + "w1", [d, 4 * d], Weights(random, d * 4 * d, 0.2f))
            .Initializer(p + "w2", [4 * d, d], Weights(random, 4 * d * d, 0.2f))
            .Node("MatMul", [p + "ln2_out", p + "w1"], [p + "up"])
            .Node("Relu", [p + "up"], [p + "active"])
            .Node("MatMul", [p + "active", p + "w2"], [p + "down"])
            .Node("Add", [p + "mid", p + "down"], [$"h_{layer + 1}"]);
    }

    private static OnnxModelBuilder LayerNorm(OnnxModelBuilder builder, Random random, string input, string name, int width) =>
        builder.Initializer(name + "_gamma", [width], [.. Enumerable.Range(0, width).Select(_ => 1f + ((random.NextSingle() - 0.5f) * 0.1f))])
            .Initializer(name + "_beta", [width], Weights(random, width, 0.02f))
            .Node("LayerNormalization", [input, name + "_gamma", name + "_beta"], [name + "_out"], ("axis", -1L), ("epsilon", 1e-5f));

    /// <summary>Uniform weights in [-scale, scale].</summary>
    private static float[] Weights(Random random, int count, float scale)
    {
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = ((random.NextSingle() * 2) - 1) * scale;
        }

        return values;
    }
}
