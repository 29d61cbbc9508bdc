using System.Globalization;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Turbine.Cli.Optimization;
using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Evaluation;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Onnx.Tools.Samples;

namespace Turbine.Bench;

/// <summary>
/// Issue 13's optimization targets, measured with <c>turbine optimize</c>'s own engine (every candidate and the
/// original in one process, rounds alternated) and judged by its own rule: the medium MLP (dynamic int8 at least 2.5x
/// at batch 1 and 3.5x at batch 32 under 1% relative L2, 4x smaller; int4 at least 4x smaller), ResNet18 (static int8
/// faster at batch 8 with at least 99% top-1 agreement on held-out images, or rejected), and the real MiniLM (dynamic
/// int8 at least 1.8x at batch 8 with a cosine of at least 0.99 to the fp32 sentence embeddings).
/// </summary>
internal static class OptimizationScenario
{
    public static string Run(string modelName, int[] batchSizes, TimeSpan round, int rounds, string outputFolder)
    {
        var work = Path.Combine(Path.GetTempPath(), $"turbine-bench-optimize-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        try
        {
            var (modelPath, samples, calibration, options, extra) = modelName switch
            {
                "mlp-medium" => MediumMlp(work, batchSizes, round, rounds),
                "resnet18" => ResNet18(work, batchSizes, round, rounds),
                "minilm" => MiniLmModel(work, batchSizes, round, rounds),
                _ => throw new ArgumentException($"the optimize scenario takes mlp-medium, resnet18 or minilm, not '{modelName}'"),
            };
            var progress = new Progress<(string Step, double Done)>(p => Console.Error.WriteLine($"  {p.Done,4:P0} {p.Step}"));
            var report = new ModelOptimizer(options, TimeProvider.System).Run(modelPath, samples, Path.Combine(work, "candidates"), progress, calibration) with { Model = modelName };
            File.WriteAllText(Path.Combine(outputFolder, $"optimize-{modelName}.svg"), SpeedupChart.Render(report));
            var text = new StringBuilder(OptimizationReportWriter.Markdown(report).Replace(OptimizationReportWriter.ChartFile, $"optimize-{modelName}.svg", StringComparison.Ordinal));
            text.AppendLine().Append(extra(report));
            return text.ToString();
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The medium MLP (1024-4096-1024) up to its logits, on random rows: every weight pass.</summary>
    private static (string, SampleSet, SampleSet?, OptimizeOptions, Func<OptimizationReport, string>) MediumMlp(string work, int[] batchSizes, TimeSpan round, int rounds)
    {
        // The MLP ends in a softmax that saturates on random weights; its logits are what quantization error shows in.
        var model = OnnxModelEditor.Read(Write(work, "mlp-medium.onnx", SampleModels.Mlp(inputs: 1024, hidden: 4096, classes: 1024)));
        OnnxModelEditor.ExposeOutput(model, "logits", DataType.Fp32, -1, -1);
        var path = Path.Combine(work, "mlp-medium.logits.onnx");
        OnnxModelEditor.Write(model, path);
        var samples = SampleSet.Random(new OnnxBackend().Inspect(path), rows: 64, seed: 11);
        var options = new OptimizeOptions(["int8", "int4", "qdq", "prune", "fp16"], OptimizationGoal.Latency, AccuracyMetric.RelativeL2, 0.01, batchSizes, round, rounds);
        return (path, samples, null, options, _ => string.Empty);
    }

    /// <summary>ResNet18 (the ML.NET featurizer: 512 pooled features), calibrated on 64 drawn images and compared on 64 others.</summary>
    private static (string, SampleSet, SampleSet?, OptimizeOptions, Func<OptimizationReport, string>) ResNet18(string work, int[] batchSizes, TimeSpan round, int rounds)
    {
        var model = OnnxModelEditor.Read(Path.Combine(AppContext.BaseDirectory, "demo", "ResNet18.onnx"));
        OnnxModelEditor.MakeDimensionDynamic(model);
        var path = Path.Combine(work, "resnet18.onnx");
        OnnxModelEditor.Write(model, path);
        var signature = new OnnxBackend().Inspect(path);
        SampleSet Images(int count, int seed)
        {
            var set = SampleSet.For(signature);
            set.Inputs[0].AddValues([.. SyntheticImages.Generate(count, seed: seed).Select(v => (double)v)]);
            return set;
        }

        // The package's ResNet18 is a featurizer (512 pooled features, no ImageNet classifier), so accuracy is judged on
        // the feature vectors' cosine; the top-1 column (the arg max of the features) is reported beside it.
        var options = new OptimizeOptions(["qdq", "qdq:percentile", "qdq:entropy", "int8"], OptimizationGoal.Latency, AccuracyMetric.Cosine, 0.01, batchSizes, round, rounds);
        return (path, Images(64, seed: 2), Images(64, seed: 1), options, _ => "Calibrated on 64 drawn images, compared on 64 others. The package ships ResNet18 as a featurizer (512 pooled features, no ImageNet classifier): the accuracy rule uses the cosine of the feature vectors, and the top-1 column is the arg max of those features, not a class decision.\n");
    }

    /// <summary>The real all-MiniLM-L6-v2, on 256 generated sentences of 64 tokens, with the pooled embeddings compared.</summary>
    private static (string, SampleSet, SampleSet?, OptimizeOptions, Func<OptimizationReport, string>) MiniLmModel(string work, int[] batchSizes, TimeSpan round, int rounds)
    {
        var miniLm = MiniLm.Load(Path.Combine(AppContext.BaseDirectory, "models"), Path.Combine(work, "minilm"));
        var signature = new OnnxBackend().Inspect(miniLm.ModelPath);
        var sentences = SentenceCorpus.Generate(256);
        var samples = miniLm.Encode(signature, sentences, sequenceLength: 64);
        // The tool's cosine compares every token position, padding included, which is stricter than the pooled sentence
        // embeddings the target is set on (reported below the table): 1.5% here, 0.99 on the pooled embeddings.
        var options = new OptimizeOptions(["int8", "graph+int8", "qdq"], OptimizationGoal.Latency, AccuracyMetric.Cosine, 0.015, batchSizes, round, rounds);
        return (miniLm.ModelPath, samples, null, options, report => PooledCosines(report, miniLm, samples, work));
    }

    /// <summary>What ONNX Runtime fused in MiniLM, and each candidate's sentence embeddings against the original's.</summary>
    private static string PooledCosines(OptimizationReport report, MiniLm miniLm, SampleSet samples, string work)
    {
        var text = new StringBuilder();
        var fused = GraphOptimizationPass.Run(miniLm.ModelPath, Path.Combine(work, "minilm.extended.onnx"), "extended");
        text.AppendLine(CultureInfo.InvariantCulture, $"What ONNX Runtime fuses in MiniLM at load (`extended`): {fused.Before.Nodes} nodes -> {fused.After.Nodes}; introduced {string.Join(", ", fused.Introduced.Select(op => $"{op.Key} x{op.Value}"))}.");
        text.AppendLine();
        text.AppendLine("Sentence embeddings (mean of `last_hidden_state` over the attention mask) against the fp32 model's, 256 sentences:");
        text.AppendLine();
        text.AppendLine("| candidate | mean cosine | lowest cosine |");
        text.AppendLine("|---|---:|---:|");
        var original = Embeddings(miniLm.ModelPath, samples);
        foreach (var candidate in report.Candidates.Where(c => c.Path is not null))
        {
            var cosines = original.Zip(Embeddings(candidate.Path!, samples), (a, b) => MiniLm.Cosine(a, b)).ToList();
            text.AppendLine(CultureInfo.InvariantCulture, $"| {candidate.Name} | {cosines.Average():F4} | {cosines.Min():F4} |");
        }

        return text.ToString();
    }

    private static List<float[]> Embeddings(string modelPath, SampleSet samples)
    {
        using var model = new ModelUnderTest("embeddings", modelPath);
        var mask = samples.Inputs.Single(i => i.Name == "attention_mask");
        var embeddings = new List<float[]>();
        for (var first = 0; first < samples.Rows; first += 32)
        {
            var rows = Math.Min(32, samples.Rows - first);
            using var batch = samples.Batch(rows, first);
            using var outputs = model.Run(batch);
            var hidden = outputs[Array.IndexOf(model.OutputNames, "last_hidden_state")];
            embeddings.AddRange(MiniLm.MeanPool(hidden.GetTensorDataAsSpan<float>(), mask.AsDoubles(first, rows), rows));
        }

        return embeddings;
    }

    private static string Write(string folder, string name, byte[] bytes)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
