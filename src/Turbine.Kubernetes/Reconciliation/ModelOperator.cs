using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Turbine.Kubernetes.Cluster;
using Turbine.Kubernetes.Resources;

namespace Turbine.Kubernetes.Reconciliation;

/// <summary>What the operator watches and how often it looks at everything again.</summary>
/// <param name="Namespace">One namespace, or every one when null.</param>
/// <param name="Resync">How often every model is reconciled even without an event: a missed event costs at most this.</param>
public sealed record OperatorOptions(string? Namespace = null, TimeSpan? Resync = null)
{
    public TimeSpan ResyncInterval => Resync ?? TimeSpan.FromMinutes(1);
}

/// <summary>
/// The operator's loop: watches <c>TurbineModel</c>s and the Deployments it manages (so that a pod becoming ready
/// updates the status at once), lists every model at start and each resync, and reconciles one model at a time from a
/// queue that folds repeated events together and retries failures with backoff.
/// </summary>
public sealed partial class ModelOperator(IClusterApi api, ModelReconciler reconciler, OperatorOptions options, TimeProvider time, ILogger<ModelOperator> logger)
{
    private static readonly Dictionary<string, string> Managed = new(StringComparer.Ordinal) { ["app.kubernetes.io/managed-by"] = "turbine-operator" };
    private readonly ReconcileQueue _queue = new(time);

    /// <summary>Reconciles successfully completed so far (for tests and the log).</summary>
    public long Reconciles => Interlocked.Read(ref _reconciles);

    private long _reconciles;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var loops = new[]
        {
            WatchAsync(ResourceKind.TurbineModel, null, KeyOfModel, cancellationToken),
            WatchAsync(ResourceKind.Deployment, Managed, KeyOfOwned, cancellationToken),
            ResyncAsync(cancellationToken),
            WorkAsync(cancellationToken),
        };
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var key = await _queue.TakeAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await reconciler.ReconcileAsync(key.Namespace, key.Name, cancellationToken).ConfigureAwait(false);
                _queue.Succeeded(key);
                Interlocked.Increment(ref _reconciles);
            }
            catch (Exception e) when (e is ClusterApiException or HttpRequestException or IOException)
            {
                LogRetry(logger, key.ToString(), _queue.Failed(key), e.Message);
            }
        }
    }

    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.ResyncInterval, time);
        do
        {
            try
            {
                foreach (var model in await api.ListAsync(ResourceKind.TurbineModel, options.Namespace, null, cancellationToken).ConfigureAwait(false))
                {
                    _queue.Add(KeyOfModel(model)!.Value);
                }
            }
            catch (Exception e) when (e is ClusterApiException or HttpRequestException or IOException)
            {
                LogWatchFailed(logger, ResourceKind.TurbineModel.Kind, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Watches a kind for as long as the operator runs: a watch the server ends is started again.</summary>
    private async Task WatchAsync(ResourceKind kind, IReadOnlyDictionary<string, string>? labels, Func<JsonObject, ModelKey?> keyOf, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var change in api.WatchAsync(kind, options.Namespace, labels, cancellationToken).ConfigureAwait(false))
                {
                    if (keyOf(change.Item) is { } key)
                    {
                        _queue.Add(key);
                    }
                }
            }
            catch (Exception e) when (e is ClusterApiException or HttpRequestException or IOException)
            {
                LogWatchFailed(logger, kind.Kind, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static ModelKey? KeyOfModel(JsonObject model) => new ModelKey(KubeObject.Namespace(model), KubeObject.Name(model));

    private static ModelKey? KeyOfOwned(JsonObject owned) =>
        KubeObject.Labels(owned).TryGetValue("app.kubernetes.io/instance", out var name) ? new ModelKey(KubeObject.Namespace(owned), name) : null;

    [LoggerMessage(EventId = 1805, Level = LogLevel.Warning, Message = "Reconciling {Model} failed; again in {Delay}: {Error}")]
    private static partial void LogRetry(ILogger logger, string model, TimeSpan delay, string error);

    [LoggerMessage(EventId = 1806, Level = LogLevel.Warning, Message = "Watching {Kind} failed; watching again: {Error}")]
    private static partial void LogWatchFailed(ILogger logger, string kind, string error);
}
