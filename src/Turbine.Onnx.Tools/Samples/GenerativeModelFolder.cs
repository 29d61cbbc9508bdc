namespace Turbine.Onnx.Tools.Samples;

/// <summary>
/// A generative model's version folder as Optimum exports one: <c>model.onnx</c> (a <see cref="DecoderModel"/> with
/// random weights) and its <c>config.json</c> beside GPT-2's tokenizer files. The server serves such a folder without any configuration.
/// </summary>
public static class GenerativeModelFolder
{
    /// <summary>Writes the model and tokenizer files into <paramref name="versionFolder"/> (created if missing).</summary>
    public static void Write(string versionFolder, DecoderShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        Directory.CreateDirectory(versionFolder);
        File.WriteAllBytes(Path.Combine(versionFolder, "model.onnx"), DecoderModel.Build(shape));
        Gpt2TokenizerFiles.Write(versionFolder);
        File.WriteAllText(Path.Combine(versionFolder, "config.json"), $$"""
            {
              "model_type": "gpt2",
              "architectures": ["GPT2LMHeadModel"],
              "vocab_size": {{shape.Vocabulary}},
              "n_embd": {{shape.Width}},
              "n_layer": {{shape.Layers}},
              "n_head": {{shape.Heads}},
              "n_positions": {{shape.Context}}
            }
            """);
    }
}
