namespace Turbine.Tests;

/// <summary>A model repository in a fresh temporary folder, deleted on dispose.</summary>
internal sealed class TestRepository : IDisposable
{
    public TestRepository()
    {
        Root = Path.Combine(Path.GetTempPath(), "turbine-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>Adds version <paramref name="version"/> of a model, with an optional config.json.</summary>
    public TestRepository Add(string name, byte[] onnx, string? config = null, int version = 1, string fileName = "model.onnx")
    {
        var folder = Path.Combine(Root, name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, fileName), onnx);
        if (config is not null)
        {
            File.WriteAllText(Path.Combine(Root, name, "config.json"), config);
        }

        return this;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A test that failed mid-way may leave a file open; the temp folder is cleaned by the OS eventually.
        }
    }
}
