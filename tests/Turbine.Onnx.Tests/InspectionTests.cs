using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>Inspection streams past the weights; it must still see exactly the graph that a full parse sees.</summary>
public sealed class InspectionTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    public static TheoryData<string> Models() => ["mlp", "addsub", "identity-bytes", "mlp-large"];

    [Theory]
    [MemberData(nameof(Models))]
    public void Inspection_agrees_with_a_full_parse(string name)
    {
        var bytes = name switch
        {
            "mlp" => SampleModels.Mlp(),
            "addsub" => SampleModels.AddSub(DataType.Int32, 16),
            "identity-bytes" => SampleModels.Identity(DataType.Bytes, -1),
            _ => SampleModels.Mlp(inputs: 512, hidden: 1024, classes: 64),
        };
        _files.Add(name, bytes);
        var path = Path.Combine(_files.Root, name, "1", "model.onnx");

        var signature = new OnnxBackend().Inspect(path);

        var graph = OnnxModelEditor.Read(path).Graph;
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(graph.Input.Where(i => !initializers.Contains(i.Name)).Select(i => i.Name), signature.Inputs.Select(i => i.Name));
        Assert.Equal(graph.Output.Select(o => o.Name), signature.Outputs.Select(o => o.Name));
        Assert.Equal(
            graph.Output.Select(o => string.Join(",", o.Type.TensorType.Shape.Dim.Select(d => d.DimValue == 0 ? -1 : d.DimValue))),
            signature.Outputs.Select(o => string.Join(",", o.Shape)));
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x03, 0x01, 0x02 })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x3A, 0x7F, 0x00 })]
    public void Truncated_or_foreign_bytes_are_not_a_model(byte[] bytes)
    {
        _files.Add("bad", bytes);
        var error = Assert.Throws<InferenceException>(() => new OnnxBackend().Inspect(Path.Combine(_files.Root, "bad", "1", "model.onnx")));
        Assert.Contains("not a valid ONNX model", error.Message, StringComparison.Ordinal);
    }
}
