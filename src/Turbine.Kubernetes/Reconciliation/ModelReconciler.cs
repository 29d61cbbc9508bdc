using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Turbine.Kubernetes.Cluster;
using Turbine.Kubernetes.Resources;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>
/// Brings one <c>TurbineModel</c>'s objects in step with its spec, level-triggered: whatever happened before, each run
/// reads the model and its objects as they are and writes only what differs. It adds the teardown finalizer, creates
/// or updates each desired object (repairing edits made by hand), deletes the objects the spec no longer asks for,
/// and reports the status; a deleted model's objects are removed routes first, then its finalizer.
/// </summary>
public sealed partial class ModelReconciler(IClusterApi api, TimeProvider time, ILogger<ModelReconciler> logger)
{
    /// <summary>Reconciles the model; an API failure is reported in its status and thrown, for a retry.</summary>
    public async Task ReconcileAsync(string ns, string name, CancellationToken cancellationToken)
    {
        var item = await api.GetAsync(ResourceKind.TurbineModel, ns, name, cancellationToken).ConfigureAwait(false);
        if (item is null)
        {
            return; // gone: its controller references let the garbage collector remove anything left
        }

        TurbineModel model;
        try
        {
            model = TurbineModel.From(item);
        }
        catch (JsonException e)
        {
            LogInvalid(logger, ns, name, e.Message);
            return; // the CRD's schema keeps such objects out; nothing sensible can be written back
        }

        if (KubeObject.IsDeleting(item))
        {
            await TearDownAsync(model, item, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!KubeObject.Finalizers(item).Contains(TurbineModel.Finalizer))
        {
            KubeObject.SetFinalizers(item, [.. KubeObject.Finalizers(item), TurbineModel.Finalizer]);
            item = await api.ReplaceAsync(ResourceKind.TurbineModel, item, cancellationToken).ConfigureAwait(false);
        }

        var errors = TurbineModelValidator.Validate(model);
        if (errors.Count > 0)
        {
            LogInvalid(logger, ns, name, string.Join("; ", errors));
            await WriteStatusAsync(item, ModelStatus.Failed(model, "InvalidSpec", string.Join("; ", errors), time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            return;
        }

        JsonObject deployment;
        var desired = DesiredObjects.For(model);
        try
        {
            deployment = await ApplyAllAsync(desired, cancellationToken).ConfigureAwait(false);
            await PruneAsync(model, desired, cancellationToken).ConfigureAwait(false);
        }
        catch (ClusterApiException e) when (e.Status != 409)
        {
            await WriteStatusAsync(item, ModelStatus.Failed(model, "ApplyFailed", e.Message, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            throw;
        }

        await WriteStatusAsync(item, ModelStatus.Applied(model, deployment, desired.Count, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates or updates each object; returns the live Deployment.</summary>
    private async Task<JsonObject> ApplyAllAsync(IReadOnlyList<DesiredObject> desired, CancellationToken cancellationToken)
    {
        JsonObject? deployment = null;
        foreach (var wanted in desired)
        {
            var live = await ApplyAsync(wanted, cancellationToken).ConfigureAwait(false);
            deployment = wanted.Kind == ResourceKind.Deployment ? live : deployment;
        }

        return deployment ?? throw new InvalidOperationException("every model has a Deployment");
    }

    private async Task<JsonObject> ApplyAsync(DesiredObject wanted, CancellationToken cancellationToken)
    {
        var ns = KubeObject.Namespace(wanted.Item);
        var live = await api.GetAsync(wanted.Kind, ns, wanted.Name, cancellationToken).ConfigureAwait(false);
        if (live is null)
        {
            LogCreated(logger, wanted.Kind.Kind, ns, wanted.Name);
            return await api.CreateAsync(wanted.Kind, wanted.Item, cancellationToken).ConfigureAwait(false);
        }

        if (LiveObjectMerge.IsSatisfied(wanted.Item, live))
        {
            return live;
        }

        LogUpdated(logger, wanted.Kind.Kind, ns, wanted.Name);
        return await api.ReplaceAsync(wanted.Kind, LiveObjectMerge.Merge(wanted.Item, live), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes what the model controls and its spec no longer asks for (a route removed, HPA swapped for KEDA, ...).</summary>
    private async Task PruneAsync(TurbineModel model, IReadOnlyList<DesiredObject> desired, CancellationToken cancellationToken)
    {
        foreach (var kind in ResourceKind.Owned)
        {
            foreach (var owned in await OwnedAsync(model, kind, cancellationToken).ConfigureAwait(false))
            {
                var name = KubeObject.Name(owned);
                if (!desired.Any(d => d.Kind == kind && d.Name == name))
                {
                    LogDeleted(logger, kind.Kind, model.Namespace, name);
                    await api.DeleteAsync(kind, model.Namespace, name, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task TearDownAsync(TurbineModel model, JsonObject item, CancellationToken cancellationToken)
    {
        if (!KubeObject.Finalizers(item).Contains(TurbineModel.Finalizer))
        {
            return;
        }

        // Everything it controls, in the order of ResourceKind.Owned: routes first, so that clients lose the route
        // before the pods go.
        await PruneAsync(model, [], cancellationToken).ConfigureAwait(false);

        KubeObject.SetFinalizers(item, KubeObject.Finalizers(item).Where(f => f != TurbineModel.Finalizer));
        await api.ReplaceAsync(ResourceKind.TurbineModel, item, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IEnumerable<JsonObject>> OwnedAsync(TurbineModel model, ResourceKind kind, CancellationToken cancellationToken)
    {
        var labelled = await api.ListAsync(kind, model.Namespace, model.Labels, cancellationToken).ConfigureAwait(false);
        return labelled.Where(o => KubeObject.IsControlledBy(o, model.Uid));
    }

    private async Task WriteStatusAsync(JsonObject item, TurbineModelStatus status, CancellationToken cancellationToken)
    {
        var written = JsonSerializer.SerializeToNode(status, TurbineModel.Json);
        if (JsonNode.DeepEquals(item["status"], written))
        {
            return;
        }

        var update = KubeObject.Clone(item);
        update["status"] = written;
        await api.ReplaceStatusAsync(ResourceKind.TurbineModel, update, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 1801, Level = LogLevel.Warning, Message = "TurbineModel {Namespace}/{Name} is invalid: {Errors}")]
    private static partial void LogInvalid(ILogger logger, string @namespace, string name, string errors);

    [LoggerMessage(EventId = 1802, Level = LogLevel.Information, Message = "Created {Kind} {Namespace}/{Name}")]
    private static partial void LogCreated(ILogger logger, string kind, string @namespace, string name);

    [LoggerMessage(EventId = 1803, Level = LogLevel.Information, Message = "Updated {Kind} {Namespace}/{Name} to its spec")]
    private static partial void LogUpdated(ILogger logger, string kind, string @namespace, string name);

    [LoggerMessage(EventId = 1804, Level = LogLevel.Information, Message = "Deleted {Kind} {Namespace}/{Name}")]
    private static partial void LogDeleted(ILogger logger, string kind, string @namespace, string name);
}
