using System.Text.Json;

namespace Turbine.Core.Lifecycle;

/// <summary>
/// A folder of named JSON definitions (<c>&lt;name&gt;.json</c>: routes, pipelines), each written atomically, so that a
/// server killed mid-write restarts with the old definition or the new one. A null folder keeps nothing.
/// </summary>
public sealed class DefinitionFolder(string? folder)
{
    public string? Path { get; } = folder is null ? null : System.IO.Path.GetFullPath(folder);

    /// <summary>Every definition saved, as its name and bytes; leftovers of interrupted writes are deleted first.</summary>
    public IEnumerable<(string Name, byte[] Json)> ReadAll()
    {
        if (Path is null || !Directory.Exists(Path))
        {
            yield break;
        }

        AtomicFile.DeleteLeftovers(Path);
        foreach (var file in Directory.EnumerateFiles(Path, "*.json"))
        {
            yield return (System.IO.Path.GetFileNameWithoutExtension(file), File.ReadAllBytes(file));
        }
    }

    public void Save(string name, Action<Utf8JsonWriter> write)
    {
        if (Path is not null)
        {
            AtomicFile.WriteJson(System.IO.Path.Combine(Path, name + ".json"), write);
        }
    }

    public void Delete(string name)
    {
        if (Path is not null && File.Exists(System.IO.Path.Combine(Path, name + ".json")))
        {
            File.Delete(System.IO.Path.Combine(Path, name + ".json"));
        }
    }
}
