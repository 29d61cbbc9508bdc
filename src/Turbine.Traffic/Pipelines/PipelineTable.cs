using System.Collections.Frozen;
using Turbine.Core.Repository;
using Turbine.Core.State;

namespace Turbine.Traffic.Pipelines;

/// <summary>
/// The pipelines a server knows, as one immutable map swapped atomically: validated, saved in the state store
/// (<see cref="StateKinds.Pipelines"/>), then published. With a store that replicas share, a pipeline set or deleted
/// through one replica is taken up by the others (<see cref="Refresh"/>).
/// </summary>
public sealed class PipelineTable
{
    private readonly IStateStore? _store;
    private readonly Lock _writes = new();
    private readonly TimeProvider _time;
    private FrozenDictionary<string, CompiledPipeline> _pipelines;

    /// <summary>Pipelines published from the repository or the configuration rather than the store.</summary>
    private FrozenSet<string> _declared = FrozenSet<string>.Empty;

    /// <summary>Creates a table kept in <paramref name="store"/> (null: in memory), reading the pipelines saved there.</summary>
    /// <param name="store">Where pipelines are saved; null keeps them in memory.</param>
    /// <param name="time">The clock the pipelines' statistics are timed with.</param>
    public PipelineTable(IStateStore? store, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _store = store;
        var loaded = new Dictionary<string, CompiledPipeline>(StringComparer.Ordinal);
        IReadOnlyList<StateDocument> saved;
        try
        {
            saved = store?.List(StateKinds.Pipelines) ?? [];
        }
        catch (IOException)
        {
            saved = []; // the store is down at start: the pipelines arrive with the first sync that reads it
        }

        foreach (var document in saved)
        {
            if (PipelineJson.Read(document.Body, document.Name, 64, out var pipeline) is null)
            {
                loaded[document.Name] = new CompiledPipeline(pipeline!, _time);
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
            _store?.PutJson(StateKinds.Pipelines, pipeline.Name, writer => PipelineJson.Write(writer, pipeline));
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

            _declared = _declared.Append(pipeline.Name).ToFrozenSet(StringComparer.Ordinal);
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

            _store?.Delete(StateKinds.Pipelines, name);
            Volatile.Write(ref _pipelines, current.Where(p => p.Key != name).ToFrozenDictionary(StringComparer.Ordinal));
            return true;
        }
    }

    /// <summary>Takes up what another replica did to pipeline <paramref name="name"/>: set it or deleted it.</summary>
    /// <exception cref="IOException">The store could not be read; the next sync reads everything again.</exception>
    public void Refresh(string name)
    {
        if (_store is null || !ModelNames.IsValid(name))
        {
            return;
        }

        var bytes = _store.Find(StateKinds.Pipelines, name);
        lock (_writes)
        {
            var current = Volatile.Read(ref _pipelines);
            if (bytes is null)
            {
                if (!_declared.Contains(name) && current.ContainsKey(name))
                {
                    Volatile.Write(ref _pipelines, current.Where(p => p.Key != name).ToFrozenDictionary(StringComparer.Ordinal));
                }
            }
            else if (PipelineJson.Read(bytes, name, 64, out var pipeline) is null && !(current.TryGetValue(name, out var published) && StoredDefinitions.SameJson(published.Definition, pipeline!, PipelineJson.Write)))
            {
                Publish(pipeline!);
            }
        }
    }

    /// <summary>Reads every pipeline again (changes may have been missed while the store was unreachable).</summary>
    /// <exception cref="IOException">The store could not be read.</exception>
    public void RefreshAll()
    {
        if (_store is null)
        {
            return;
        }

        foreach (var name in StoredDefinitions.NamesToRefresh(_store, StateKinds.Pipelines, Volatile.Read(ref _pipelines).Keys))
        {
            Refresh(name);
        }
    }
}
