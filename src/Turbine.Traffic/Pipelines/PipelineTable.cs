using System.Collections.Frozen;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;

namespace Turbine.Traffic.Pipelines;

/// <summary>
/// The pipelines a server knows, as one immutable map swapped atomically: validated, saved to
/// <c>&lt;state&gt;/pipelines/&lt;name&gt;.json</c>, then published. Files there at start declare pipelines.
/// </summary>
public sealed class PipelineTable
{
    private readonly DefinitionFolder _folder;
    private readonly Lock _writes = new();
    private readonly TimeProvider _time;
    private FrozenDictionary<string, CompiledPipeline> _pipelines;

    /// <summary>Creates a table kept in <paramref name="folder"/> (null: in memory), reading the pipelines saved there.</summary>
    /// <param name="folder">Where pipelines are saved; null keeps them in memory.</param>
    /// <param name="time">The clock the pipelines' statistics are timed with.</param>
    public PipelineTable(string? folder, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _folder = new DefinitionFolder(folder);
        var loaded = new Dictionary<string, CompiledPipeline>(StringComparer.Ordinal);
        foreach (var (name, json) in _folder.ReadAll())
        {
            if (PipelineJson.Read(json, name, 64, out var pipeline) is null)
            {
                loaded[name] = new CompiledPipeline(pipeline!, _time);
            }
        }

        _pipelines = loaded.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every pipeline, by name.</summary>
    public IReadOnlyList<CompiledPipeline> All => [.. Volatile.Read(ref _pipelines).Values.OrderBy(p => p.Definition.Name, StringComparer.Ordinal)];

    public bool TryGet(string name, out CompiledPipeline pipeline) => Volatile.Read(ref _pipelines).TryGetValue(name, out pipeline!);

    /// <summary>Adds or replaces a pipeline (its statistics start afresh): saved first, then published.</summary>
    public void Set(PipelineDefinition pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        lock (_writes)
        {
            _folder.Save(pipeline.Name, writer => PipelineJson.Write(writer, pipeline));
            Publish(pipeline);
        }
    }

    /// <summary>
    /// Publishes a pipeline that the model repository (a Triton ensemble folder) or the server configuration declares,
    /// without saving it: it is read from there again at the next start. Unless <paramref name="replace"/> (a reload of
    /// the ensemble), a pipeline already there under the same name wins (one saved through the API is the later
    /// word); false then.
    /// </summary>
    public bool Declare(PipelineDefinition pipeline, bool replace = false)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        lock (_writes)
        {
            if (!replace && Volatile.Read(ref _pipelines).ContainsKey(pipeline.Name))
            {
                return false;
            }

            Publish(pipeline);
            return true;
        }
    }

    private void Publish(PipelineDefinition pipeline)
    {
        var next = new Dictionary<string, CompiledPipeline>(Volatile.Read(ref _pipelines), StringComparer.Ordinal) { [pipeline.Name] = new CompiledPipeline(pipeline, _time) };
        Volatile.Write(ref _pipelines, next.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>Deletes a pipeline; false when there was none.</summary>
    public bool Remove(string name)
    {
        lock (_writes)
        {
            var current = Volatile.Read(ref _pipelines);
            if (!ModelNames.IsValid(name) || !current.ContainsKey(name))
            {
                return false;
            }

            _folder.Delete(name);
            Volatile.Write(ref _pipelines, current.Where(p => p.Key != name).ToFrozenDictionary(StringComparer.Ordinal));
            return true;
        }
    }
}
