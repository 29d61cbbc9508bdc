using System.Text.Json;
using Turbine.Core.Repository;

namespace Turbine.Core.Lifecycle;

/// <summary>
/// Keeps each model's <see cref="VersionRouting"/> in <c>&lt;state folder&gt;/&lt;model&gt;.json</c>, so that a
/// rollback survives a restart. Writes go to a temporary file that is flushed and renamed over the old one: a
/// process killed mid-write leaves the previous routing, never half a file. Without a folder, routing lives in memory.
/// </summary>
public sealed class VersionRoutingStore
{
    private static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 8 };
    private readonly string? _folder;

    /// <summary>
    /// Creates a store in <paramref name="folder"/> (created on first write); null keeps routing in memory only.
    /// Temporary files that a killed process left behind are deleted (SECURITY.md F1).
    /// </summary>
    public VersionRoutingStore(string? folder)
    {
        _folder = folder is null ? null : Path.GetFullPath(folder);
        if (_folder is not null)
        {
            AtomicFile.DeleteLeftovers(_folder);
        }
    }

    /// <summary>The routing saved for <paramref name="model"/>, or <see cref="VersionRouting.Empty"/>.</summary>
    public VersionRouting Load(string model)
    {
        var path = PathOf(model);
        if (path is null || !File.Exists(path))
        {
            return VersionRouting.Empty;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), ReadOptions);
            var root = document.RootElement;
            long? pinned = root.TryGetProperty("default_version", out var d) && d.TryGetInt64(out var v) && v > 0 ? v : null;
            var labels = new Dictionary<string, long>(StringComparer.Ordinal);
            if (root.TryGetProperty("labels", out var map) && map.ValueKind == JsonValueKind.Object)
            {
                foreach (var label in map.EnumerateObject())
                {
                    if (VersionRouting.IsValidLabel(label.Name) && label.Value.TryGetInt64(out var version) && version > 0)
                    {
                        labels[label.Name] = version;
                    }
                }
            }

            return new VersionRouting(pinned, labels);
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException)
        {
            return VersionRouting.Empty; // an unreadable file must not keep the model from serving its newest version
        }
    }

    /// <summary>Saves <paramref name="routing"/> for <paramref name="model"/> atomically.</summary>
    public void Save(string model, VersionRouting routing)
    {
        var path = PathOf(model);
        if (path is null)
        {
            return;
        }

        AtomicFile.WriteJson(path, writer =>
        {
            writer.WriteStartObject();
            if (routing.DefaultVersion is { } pinned)
            {
                writer.WriteNumber("default_version", pinned);
            }

            writer.WriteStartObject("labels");
            foreach (var (label, version) in routing.Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
            {
                writer.WriteNumber(label, version);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }

    private string? PathOf(string model)
    {
        if (_folder is null)
        {
            return null;
        }

        if (!ModelNames.IsValid(model))
        {
            throw new ArgumentException("not a valid model name", nameof(model));
        }

        return Path.Combine(_folder, model + ".json");
    }
}
