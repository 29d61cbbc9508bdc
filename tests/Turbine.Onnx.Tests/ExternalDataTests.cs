using Google.Protobuf;
using Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>SECURITY.md A6: external-data locations must stay inside the version folder.</summary>
public sealed class ExternalDataTests : IDisposable
{
    private readonly TestRepository _repository = new();

    public void Dispose() => _repository.Dispose();

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("..\\..\\x")]
    [InlineData("sub/../../x")]
    [InlineData("C:\\x")]
    [InlineData("")]
    public void Escaping_locations_are_refused_before_a_session_exists(string location)
    {
        var path = WriteModelWithExternalData(location, offset: 0, length: 4);

        var error = Assert.Throws<InferenceException>(() => new OnnxBackend().Inspect(path));

        Assert.Contains("external data", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_symbolic_link_is_refused()
    {
        var canary = Path.Combine(_repository.Root, "canary.bin");
        File.WriteAllBytes(canary, new byte[64]);
        var path = WriteModelWithExternalData("weights.bin", offset: 0, length: 4);
        File.CreateSymbolicLink(Path.Combine(Path.GetDirectoryName(path)!, "weights.bin"), canary);

        var error = Assert.Throws<InferenceException>(() => new OnnxBackend().Inspect(path));

        Assert.Contains("is missing or is a link", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(100, 4)]
    [InlineData(0, 100)]
    [InlineData(60, 8)]
    public void Offset_and_length_past_the_end_are_refused(long offset, long length)
    {
        var path = WriteModelWithExternalData("weights.bin", offset, length);
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "weights.bin"), new byte[64]);

        var error = Assert.Throws<InferenceException>(() => new OnnxBackend().Inspect(path));

        Assert.Contains("past the end", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_inside_the_version_folder_is_accepted()
    {
        var path = WriteModelWithExternalData("weights.bin", offset: 0, length: 16);
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "weights.bin"), new byte[16]);

        var signature = new OnnxBackend().Inspect(path);

        Assert.Equal("INPUT0", signature.Inputs.Single().Name);
    }

    private string WriteModelWithExternalData(string location, long offset, long length)
    {
        var model = ModelProto.Parser.ParseFrom(new OnnxModelBuilder("external")
            .Input("INPUT0", DataType.Fp32, -1, 4)
            .Initializer("w", [4], new float[4])
            .Node("Add", ["INPUT0", "w"], ["OUTPUT0"])
            .Output("OUTPUT0", DataType.Fp32, -1, 4)
            .ToBytes());
        var weights = model.Graph.Initializer[0];
        weights.RawData = ByteString.Empty;
        weights.DataLocation = TensorProto.Types.DataLocation.External;
        weights.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        weights.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        weights.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var folder = Path.Combine(_repository.Root, "external", "1");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "model.onnx");
        OnnxModelEditor.Write(model, path);
        return path;
    }
}
