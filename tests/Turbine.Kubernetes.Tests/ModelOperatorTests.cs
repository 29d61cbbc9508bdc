using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Turbine.Kubernetes.Cluster;
using Turbine.Kubernetes.Reconciliation;
using Turbine.Kubernetes.Resources;

namespace Turbine.Kubernetes.Tests;

/// <summary>The operator's loop over the in-memory API: events lead to reconciles, a pod's readiness to the status.</summary>
public sealed class ModelOperatorTests
{
    [Fact]
    public async Task A_new_model_is_reconciled_from_its_event_and_its_status_follows_its_pods()
    {
        var cluster = new FakeCluster();
        var reconciler = new ModelReconciler(cluster, TimeProvider.System, NullLogger<ModelReconciler>.Instance);
        var loop = new ModelOperator(cluster, reconciler, new OperatorOptions("models", TimeSpan.FromHours(1)), TimeProvider.System, NullLogger<ModelOperator>.Instance);
        using var stop = new CancellationTokenSource();
        var running = loop.RunAsync(stop.Token);
        var watching = cluster.WatchAsync(ResourceKind.TurbineModel, "models", null, stop.Token).GetAsyncEnumerator(stop.Token);

        await cluster.CreateAsync(ResourceKind.TurbineModel, ModelReconcilerTests.Model("fraud", ModelReconcilerTests.AutoscaledWithRoute()), CancellationToken.None);
        await UntilAsync(watching, m => m.Status.Conditions.Any(c => c.Type == ModelStatus.Reconciled && c.Status == "True"));
        Assert.True(cluster.Exists(ResourceKind.HttpRoute, "models", "turbine-fraud-public"));

        // The Deployment's status moving is an event too: no resync (an hour away) is needed for Ready.
        cluster.ReportPods("models", "turbine-fraud", ready: 2);
        var ready = await UntilAsync(watching, m => m.Status.Conditions.Any(c => c.Type == ModelStatus.Ready && c.Status == "True"));
        Assert.Equal(2, ready.Status.ReadyReplicas);

        await stop.CancelAsync();
        await running;
    }

    /// <summary>Reads the model's watch until an event shows <paramref name="done"/>, within 30 s.</summary>
    private static async Task<TurbineModel> UntilAsync(IAsyncEnumerator<ClusterEvent> watching, Func<TurbineModel, bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var next = watching.MoveNextAsync().AsTask();
            Assert.True(await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(30) - clock.Elapsed)) == next && await next, "the model's watch went quiet");
            var model = TurbineModel.From((JsonObject)watching.Current.Item.DeepClone());
            if (done(model))
            {
                return model;
            }
        }

        throw new TimeoutException("the model never reached the expected status");
    }
}
