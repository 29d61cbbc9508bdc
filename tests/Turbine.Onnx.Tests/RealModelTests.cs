using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Evaluation;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Onnx.Tools.Samples;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>
/// The passes on the real models issue 13 names: all-MiniLM-L6-v2 from its NuGet package (dynamic int8 keeps the
/// sentence embeddings) and ResNet18 from its package (static int8 calibrated on drawn images keeps the features).
/// Speed is the benchmark's business (docs/BENCHMARKS.md); these hold the answers.
/// </summary>
public sealed class RealModelTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void MiniLm_comes_out_of_its_package_and_tokenizes_as_bert_does()
    {
        var miniLm = MiniLm.Load(Path.Combine(AppContext.BaseDirectory, "models"), Path.Combine(_files.Root, "minilm"));
        var signature = new OnnxBackend().Inspect(miniLm.ModelPath);

        var samples = miniLm.Encode(signature, ["Hello world"], sequenceLength: 6);

        Assert.Equal(["attention_mask", "input_ids", "token_type_ids"], signature.Inputs.Select(i => i.Name).Order(StringComparer.Ordinal));
        Assert.Equal([101, 7592, 2088, 102, 0, 0], samples.Inputs.Single(i => i.Name == "input_ids").AsDoubles(0, 1)); // [CLS] hello world [SEP], padded
        Assert.Equal([1, 1, 1, 1, 0, 0], samples.Inputs.Single(i => i.Name == "attention_mask").AsDoubles(0, 1));
        Assert.Contains(signature.Outputs, o => o.Name == "last_hidden_state" && o.Shape.Length == 3);
    }

    [Fact]
    public void MiniLm_in_dynamic_int8_keeps_its_sentence_embeddings_within_a_cosine_of_0_99()
    {
        var miniLm = MiniLm.Load(Path.Combine(AppContext.BaseDirectory, "models"), Path.Combine(_files.Root, "minilm"));
        var quantized = Path.Combine(_files.Root, "minilm.int8.onnx");
        var report = DynamicQuantizationPass.Run(miniLm.ModelPath, quantized);
        var samples = miniLm.Encode(new OnnxBackend().Inspect(miniLm.ModelPath), SentenceCorpus.Generate(32), sequenceLength: 48);

        var original = Embeddings(miniLm.ModelPath, samples);
        var candidate = Embeddings(quantized, samples);

        Assert.True(report.Quantized.Count >= 36, $"{report.Quantized.Count} MatMuls quantized"); // 6 layers x (4 projections + 2 feed-forward)
        var cosines = original.Zip(candidate, (a, b) => MiniLm.Cosine(a, b)).ToList();
        Assert.True(cosines.Average() >= 0.99, $"mean cosine {cosines.Average():F4}");
        Assert.True(cosines.Min() >= 0.97, $"lowest cosine {cosines.Min():F4}");
    }

    [Fact]
    public void ResNet18_in_static_int8_keeps_its_features_on_images_calibration_never_saw()
    {
        var model = OnnxModelEditor.Read(Path.Combine(AppContext.BaseDirectory, "demo", "ResNet18.onnx"));
        OnnxModelEditor.MakeDimensionDynamic(model);
        var original = Path.Combine(_files.Root, "resnet18.onnx");
        OnnxModelEditor.Write(model, original);
        var signature = new OnnxBackend().Inspect(original);
        var quantized = Path.Combine(_files.Root, "resnet18.qdq.onnx");

        var report = StaticQuantizationPass.Run(original, quantized, Images(signature, count: 16, seed: 1));

        Assert.Equal(19, report.RemovedActivations); // every Relu follows a Conv or an Add
        Assert.True(report.BytesAfter < report.BytesBefore / 3.5, $"{report.BytesBefore} -> {report.BytesAfter} bytes");
        var census = OpCensus.Of(quantized);
        Assert.Equal(22, census.Operators["Conv"]);
        Assert.False(census.Operators.ContainsKey("BatchNormalization")); // folded into the convolutions first
        using var before = new ModelUnderTest("fp32", original);
        using var after = new ModelUnderTest("int8", quantized);
        using var batch = Images(signature, count: 8, seed: 2).Batch(8);
        using var expected = before.Run(batch);
        using var actual = after.Run(batch);
        var comparison = OutputComparison.Compare([expected], [actual]);
        Assert.True(comparison.Cosine >= 0.99, $"cosine {comparison.Cosine:F4}, relative L2 {comparison.RelativeL2:P1}");
    }

    private static SampleSet Images(ModelSignature signature, int count, int seed)
    {
        var images = SampleSet.For(signature);
        images.Inputs[0].AddValues([.. SyntheticImages.Generate(count, seed: seed).Select(v => (double)v)]);
        return images;
    }

    private static List<float[]> Embeddings(string modelPath, SampleSet samples)
    {
        using var model = new ModelUnderTest("embeddings", modelPath);
        using var batch = samples.Batch(samples.Rows);
        using var outputs = model.Run(batch);
        var hidden = outputs[Array.IndexOf(model.OutputNames, "last_hidden_state")];
        return [.. MiniLm.MeanPool(hidden.GetTensorDataAsSpan<float>(), samples.Inputs.Single(i => i.Name == "attention_mask").AsDoubles(0, samples.Rows), samples.Rows)];
    }
}
