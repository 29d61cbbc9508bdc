using Turbine.Onnx.Tools;

namespace Turbine.Bench;

/// <summary>
/// One benchmark model written into a temporary repository: the tiny MLP (16 -> 32 -> 4), the medium MLP
/// (1024 -> 4096 -> 1024) or ResNet18 (from its NuGet package, batch dimension made dynamic), plus one random input row.
/// </summary>
internal sealed class BenchModel : IDisposable
{
    private BenchModel(string name, string repository, string path, string inputName, string outputName, long[] shape)
    {
        Name = name;
        Repository = repository;
        Path = path;
        InputName = inputName;
        OutputName = outputName;
        Shape = shape;
        var random = new Random(1);
        Input = [.. Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)random.NextDouble())];
    }

    public string Name { get; }

    public string Repository { get; }

    public string Path { get; }

    public string InputName { get; }

    /// <summary>The model's first output.</summary>
    public string OutputName { get; }

    /// <summary>The shape of one request: one row.</summary>
    public long[] Shape { get; }

    public float[] Input { get; }

    public static BenchModel Create(string name)
    {
        var repository = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"turbine-bench-{Environment.ProcessId}-{name}");
        var folder = System.IO.Path.Combine(repository, name, "1");
        Directory.CreateDirectory(folder);
        var path = System.IO.Path.Combine(folder, "model.onnx");
        switch (name)
        {
            case "resnet18":
                var resnet = OnnxModelEditor.Read(System.IO.Path.Combine(AppContext.BaseDirectory, "demo", "ResNet18.onnx"));
                OnnxModelEditor.MakeDimensionDynamic(resnet);
                OnnxModelEditor.Write(resnet, path);
                return new BenchModel(name, repository, path, "Input247", resnet.Graph.Output[0].Name, [1, 3, 224, 224]);
            case "mlp-medium":
                File.WriteAllBytes(path, SampleModels.Mlp(inputs: 1024, hidden: 4096, classes: 1024));
                return new BenchModel(name, repository, path, "features", "probabilities", [1, 1024]);
            case "mlp":
                File.WriteAllBytes(path, SampleModels.Mlp(inputs: 16, hidden: 32, classes: 4));
                return new BenchModel(name, repository, path, "features", "probabilities", [1, 16]);
            default:
                throw new ArgumentException($"unknown model '{name}': mlp, mlp-medium or resnet18");
        }
    }

    /// <summary>Writes the model's config.json from the given top-level settings (JSON members), if any.</summary>
    public void Configure(IReadOnlyList<string> settings)
    {
        if (settings.Count > 0)
        {
            File.WriteAllText(System.IO.Path.Combine(Repository, Name, "config.json"), "{\n" + string.Join(",\n", settings) + "\n}");
        }
    }

    public void Dispose() => Directory.Delete(Repository, recursive: true);
}
