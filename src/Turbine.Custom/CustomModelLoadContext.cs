using System.Reflection;
using System.Runtime.Loader;

namespace Turbine.Custom;

/// <summary>
/// The collectible load context of one custom model version: its assembly and the ones beside it in the version
/// folder load here, so that unloading the version frees them; Turbine's contracts (<see cref="ICustomModel"/>, tensors)
/// and everything else the folder does not hold come from the server's own context, so the types are the server's.
/// Assemblies are read into memory rather than mapped from their files, so a folder can be replaced while it serves.
/// </summary>
internal sealed class CustomModelLoadContext : AssemblyLoadContext
{
    private static readonly string SharedContract = typeof(ICustomModel).Assembly.GetName().Name!;

    private readonly string _folder;

    public CustomModelLoadContext(string name, string folder)
        : base(name, isCollectible: true)
    {
        _folder = folder;
    }

    /// <summary>Loads the model's main assembly from its bytes.</summary>
    public Assembly LoadMain(byte[] image)
    {
        using var stream = new MemoryStream(image, writable: false);
        return LoadFromStream(stream);
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is not { } name || name == SharedContract)
        {
            return null;
        }

        var path = Path.Combine(_folder, name + ".dll");
        if (!File.Exists(path) || Path.GetDirectoryName(Path.GetFullPath(path)) != Path.GetFullPath(_folder).TrimEnd(Path.DirectorySeparatorChar))
        {
            return null; // the server's context resolves it (the framework, the server's own packages)
        }

        using var stream = new MemoryStream(File.ReadAllBytes(path), writable: false);
        return LoadFromStream(stream);
    }
}
