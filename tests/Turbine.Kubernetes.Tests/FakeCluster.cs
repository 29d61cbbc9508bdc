using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Turbine.Kubernetes.Cluster;

namespace Turbine.Kubernetes.Tests;

/// <summary>
/// An in-memory stand-in for the Kubernetes API subset the operator uses (no API server can run where Turbine is
/// built). It keeps the semantics the reconciler depends on: resource versions with conflicts on stale writes, a
/// status subresource that object writes do not touch (and the reverse), generations that move with the spec,
/// server defaults (a Deployment's replica count, a container's pull policy, a Service's cluster IP), finalizers
/// that hold a deleted object with its deletion timestamp set, garbage collection of dependents by their controller
/// reference, label selectors and watches.
/// </summary>
internal sealed class FakeCluster : IClusterApi
{
    private readonly Dictionary<(ResourceKind Kind, string Namespace, string Name), JsonObject> _objects = [];
    private readonly List<(ResourceKind Kind, Channel<ClusterEvent> Events)> _watchers = [];
    private readonly Lock _lock = new();
    private long _version;

    /// <summary>Every write the cluster took: "create Deployment turbine-fraud", "update ...", "status ...", "delete ...".</summary>
    public List<string> Writes { get; } = [];

    /// <summary>Kinds whose writes fail with 422, as for an invalid object or a missing CRD.</summary>
    public HashSet<ResourceKind> Refusing { get; } = [];

    public Task<JsonObject?> GetAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_objects.TryGetValue((kind, ns, name), out var item) ? KubeObject.Clone(item) : null);
        }
    }

    public Task<IReadOnlyList<JsonObject>> ListAsync(ResourceKind kind, string? ns, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<JsonObject> items = [.. _objects.Where(o => o.Key.Kind == kind && (ns is null || o.Key.Namespace == ns) && KubeObject.Matches(o.Value, labels)).Select(o => KubeObject.Clone(o.Value))];
            return Task.FromResult(items);
        }
    }

    public Task<JsonObject> CreateAsync(ResourceKind kind, JsonObject item, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Refuse(kind, item);
            var key = (kind, KubeObject.Namespace(item), KubeObject.Name(item));
            if (_objects.ContainsKey(key))
            {
                throw new ClusterApiException(409, $"{kind.Kind} {key.Item3} already exists");
            }

            var stored = KubeObject.Clone(item);
            stored.Remove("status");
            var metadata = KubeObject.Metadata(stored);
            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["generation"] = 1;
            metadata["creationTimestamp"] = "2026-12-07T00:00:00Z";
            ApplyDefaults(kind, stored, previous: null);
            return Task.FromResult(Store(kind, stored, ClusterEventType.Added, $"create {kind.Kind} {key.Item3}"));
        }
    }

    public Task<JsonObject> ReplaceAsync(ResourceKind kind, JsonObject item, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Refuse(kind, item);
            var current = Current(kind, item);
            var stored = KubeObject.Clone(item);
            stored["status"] = current["status"]?.DeepClone();
            var metadata = KubeObject.Metadata(stored);
            var previous = KubeObject.Metadata(current);
            metadata["uid"] = previous["uid"]?.DeepClone();
            metadata["creationTimestamp"] = previous["creationTimestamp"]?.DeepClone();
            metadata["deletionTimestamp"] = previous["deletionTimestamp"]?.DeepClone();
            var specChanged = !JsonNode.DeepEquals(stored["spec"], current["spec"]);
            metadata["generation"] = KubeObject.Generation(current) + (specChanged ? 1 : 0);
            ApplyDefaults(kind, stored, current);
            if (KubeObject.IsDeleting(stored) && KubeObject.Finalizers(stored).Count == 0)
            {
                Remove(kind, stored);
                return Task.FromResult(stored);
            }

            return Task.FromResult(Store(kind, stored, ClusterEventType.Modified, $"update {kind.Kind} {KubeObject.Name(item)}"));
        }
    }

    public Task<JsonObject> ReplaceStatusAsync(ResourceKind kind, JsonObject item, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var stored = KubeObject.Clone(Current(kind, item));
            stored["status"] = item["status"]?.DeepClone();
            return Task.FromResult(Store(kind, stored, ClusterEventType.Modified, $"status {kind.Kind} {KubeObject.Name(item)}"));
        }
    }

    public Task DeleteAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_objects.TryGetValue((kind, ns, name), out var current))
            {
                return Task.CompletedTask;
            }

            if (KubeObject.Finalizers(current).Count > 0)
            {
                if (!KubeObject.IsDeleting(current))
                {
                    var held = KubeObject.Clone(current);
                    KubeObject.Metadata(held)["deletionTimestamp"] = "2026-12-07T01:00:00Z";
                    Store(kind, held, ClusterEventType.Modified, $"delete {kind.Kind} {name} (held by finalizers)");
                }

                return Task.CompletedTask;
            }

            Writes.Add($"delete {kind.Kind} {name}");
            Remove(kind, current);
            return Task.CompletedTask;
        }
    }

    /// <summary>Registers the watch at the call (not at the first read), so that no change after the call is missed.</summary>
    public IAsyncEnumerable<ClusterEvent> WatchAsync(ResourceKind kind, string? ns, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken)
    {
        var events = Channel.CreateUnbounded<ClusterEvent>();
        lock (_lock)
        {
            _watchers.Add((kind, events));
        }

        return ReadAsync(events, ns, labels, cancellationToken);
    }

    private async IAsyncEnumerable<ClusterEvent> ReadAsync(Channel<ClusterEvent> events, string? ns, IReadOnlyDictionary<string, string>? labels, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in events.Reader.ReadAllAsync(cancellationToken))
            {
                if ((ns is null || KubeObject.Namespace(change.Item) == ns) && KubeObject.Matches(change.Item, labels))
                {
                    yield return change;
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _watchers.RemoveAll(w => w.Events == events);
            }
        }
    }

    /// <summary>What the Deployment controller and the kubelet would report: every replica of the current spec running, <paramref name="ready"/> of them ready.</summary>
    public void ReportPods(string ns, string name, int ready)
    {
        lock (_lock)
        {
            var stored = KubeObject.Clone(_objects[(ResourceKind.Deployment, ns, name)]);
            var replicas = (int)stored["spec"]!["replicas"]!;
            stored["status"] = new JsonObject
            {
                ["observedGeneration"] = KubeObject.Generation(stored),
                ["replicas"] = replicas,
                ["updatedReplicas"] = replicas,
                ["readyReplicas"] = ready,
                ["availableReplicas"] = ready,
            };
            Store(ResourceKind.Deployment, stored, ClusterEventType.Modified, $"pods {name}");
        }
    }

    /// <summary>An edit by someone else (kubectl edit, another controller): no conflict check, generation moved.</summary>
    public void Edit(ResourceKind kind, string ns, string name, Action<JsonObject> edit)
    {
        lock (_lock)
        {
            var stored = KubeObject.Clone(_objects[(kind, ns, name)]);
            edit(stored);
            KubeObject.Metadata(stored)["generation"] = KubeObject.Generation(stored) + 1;
            Store(kind, stored, ClusterEventType.Modified, $"edit {kind.Kind} {name}");
        }
    }

    /// <summary>Watches open now: over HTTP a watch attaches some time after it is asked for.</summary>
    public int Watchers
    {
        get
        {
            lock (_lock)
            {
                return _watchers.Count;
            }
        }
    }

    public bool Exists(ResourceKind kind, string ns, string name)
    {
        lock (_lock)
        {
            return _objects.ContainsKey((kind, ns, name));
        }
    }

    public int Count(ResourceKind kind)
    {
        lock (_lock)
        {
            return _objects.Keys.Count(k => k.Kind == kind);
        }
    }

    private void Refuse(ResourceKind kind, JsonObject item)
    {
        if (Refusing.Contains(kind))
        {
            throw new ClusterApiException(422, $"{kind.Kind} {KubeObject.Name(item)} is invalid");
        }
    }

    private JsonObject Current(ResourceKind kind, JsonObject item)
    {
        if (!_objects.TryGetValue((kind, KubeObject.Namespace(item), KubeObject.Name(item)), out var current))
        {
            throw new ClusterApiException(404, $"{kind.Kind} {KubeObject.Name(item)} not found");
        }

        if (KubeObject.ResourceVersion(item) is { } version && version != KubeObject.ResourceVersion(current))
        {
            throw new ClusterApiException(409, $"{kind.Kind} {KubeObject.Name(item)}: the object has been modified");
        }

        return current;
    }

    private JsonObject Store(ResourceKind kind, JsonObject item, ClusterEventType type, string write)
    {
        KubeObject.Metadata(item)["resourceVersion"] = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
        _objects[(kind, KubeObject.Namespace(item), KubeObject.Name(item))] = item;
        Writes.Add(write);
        Publish(kind, type, item);
        return KubeObject.Clone(item);
    }

    /// <summary>Removes the object and, as the garbage collector would, everything it controls.</summary>
    private void Remove(ResourceKind kind, JsonObject item)
    {
        _objects.Remove((kind, KubeObject.Namespace(item), KubeObject.Name(item)));
        Publish(kind, ClusterEventType.Deleted, item);
        var uid = KubeObject.Uid(item);
        foreach (var dependent in _objects.Where(o => uid is not null && KubeObject.IsControlledBy(o.Value, uid)).ToList())
        {
            Writes.Add($"collect {dependent.Key.Kind.Kind} {dependent.Key.Name}");
            Remove(dependent.Key.Kind, dependent.Value);
        }
    }

    private void Publish(ResourceKind kind, ClusterEventType type, JsonObject item)
    {
        foreach (var watcher in _watchers.Where(w => w.Kind == kind))
        {
            watcher.Events.Writer.TryWrite(new ClusterEvent(type, KubeObject.Clone(item)));
        }
    }

    /// <summary>Some of the defaults the API server fills in, so that live objects differ from what was written as real ones do.</summary>
    private static void ApplyDefaults(ResourceKind kind, JsonObject item, JsonObject? previous)
    {
        if (kind == ResourceKind.Deployment)
        {
            var spec = (JsonObject)item["spec"]!;
            spec["replicas"] ??= 1;
            spec["progressDeadlineSeconds"] ??= 600;
            foreach (var container in spec["template"]!["spec"]!["containers"]!.AsArray().OfType<JsonObject>())
            {
                container["imagePullPolicy"] ??= "IfNotPresent";
                container["terminationMessagePath"] ??= "/dev/termination-log";
            }
        }
        else if (kind == ResourceKind.Service)
        {
            var spec = (JsonObject)item["spec"]!;
            spec["type"] ??= "ClusterIP";
            spec["clusterIP"] ??= previous?["spec"]?["clusterIP"]?.DeepClone() ?? "10.96.0.17";
        }
    }
}
