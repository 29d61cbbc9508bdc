using System.Text.Json;
using Turbine.Core.Repository;
using Turbine.Core.State;

namespace Turbine.Core.Lifecycle;

/// <summary>
/// Keeps each model's <see cref="VersionRouting"/> in the state store (<see cref="StateKinds.VersionRouting"/>, named
/// after the model), so that a rollback survives a restart and, with a shared store, serves on every replica. Without
/// a store, routing lives in memory.
/// </summary>
public sealed class VersionRoutingStore(IStateStore? store)
{
    private static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 8 };

    /// <summary>The routing saved for <paramref name="model"/>, or <see cref="VersionRouting.Empty"/> (also when the store cannot be read).</summary>
    public VersionRouting Load(string model)
    {
        if (store is null || !ModelNames.IsValid(model))
        {
            return VersionRouting.Empty;
        }

        try
        {
            if (store.Find(StateKinds.VersionRouting, model) is not { } bytes)
            {
                return VersionRouting.Empty;
            }

            using var document = JsonDocument.Parse(bytes, ReadOptions);
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
            return VersionRouting.Empty; // an unreadable document must not keep the model from serving its newest version
        }
    }

    /// <summary>Saves <paramref name="routing"/> for <paramref name="model"/>.</summary>
    /// <exception cref="StateStoreException">The store could not be written; the change must not be made.</exception>
    public void Save(string model, VersionRouting routing)
    {
        ArgumentNullException.ThrowIfNull(routing);
        if (store is null)
        {
            return;
        }

        if (!ModelNames.IsValid(model))
        {
            throw new ArgumentException("not a valid model name", nameof(model));
        }

        store.PutJson(StateKinds.VersionRouting, model, writer =>
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
}
