using System.Globalization;
using System.Text;
using Turbine.Autoscaling;
using Turbine.Cli.Bench;
using Turbine.Client;

namespace Turbine.Bench;

/// <summary>
/// The autoscaling simulator against real servers (issue 18): `turbine serve` processes, each pinned to a core of its
/// own, behind a least-in-flight balancer in the load generator. One replica's service is measured alone (a lone
/// request's p50 and p99, the throughput of 4 callers); then Poisson traffic at several loads goes to fleets of 1 and of
/// <c>servers</c> replicas, and the measured p50/p99 are set beside what the simulator predicts for the same fleet,
/// service model (log-normal through the measured quantiles) and rate. With a model whose requests cost far more than
/// the generator's own work per request (ResNet18), pinned replicas behave as machines of their own would.
/// </summary>
internal static class AutoscaleCheckScenario
{
    public static async Task<string> RunAsync(BenchModel model, int servers, TimeSpan window)
    {
        var fleet = new List<ServerProcess>();
        var clients = new List<TurbineGrpcClient>();
        try
        {
            for (var k = 0; k < servers; k++)
            {
                fleet.Add(await ServerProcess.StartAsync(model.Repository, core: k % Environment.ProcessorCount));
                clients.Add(new TurbineGrpcClient(new Uri($"http://127.0.0.1:{fleet[^1].GrpcPort}/")));
            }

            var callers = clients.Select(c => ArmRounds.GrpcCaller(c, model, model.Name, model.InputName)).ToArray();
            await LoadGenerator.ClosedLoopAsync(4, TimeSpan.FromSeconds(3), callers[0]);
            var alone = await LoadGenerator.ClosedLoopAsync(1, window, callers[0]);
            var busy = await LoadGenerator.ClosedLoopAsync(4, window, callers[0]);
            var slots = Math.Max(1, (int)Math.Round(busy.Throughput * alone.P50Ms / 1000));
            var service = ServiceModel.Measured(slots, alone.P50Ms / 1000, alone.P99Ms / 1000) with { QueueLimit = int.MaxValue };

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"model `{model.Name}`; replicas: `turbine serve` processes pinned to one core each of {Environment.ProcessorCount}; one replica measured alone: lone p50 {alone.P50Ms:F2} ms, p99 {alone.P99Ms:F2} ms, {busy.Throughput:F1} requests/s with 4 callers → {service.Slots} at once, {service.MeanServiceSeconds * 1000:F2} ms each, {service.Describe()}; Poisson windows of {window.TotalSeconds} s");
            text.AppendLine();
            text.AppendLine("| replicas | rate (req/s) | load | measured p50 ms | simulated p50 ms | measured p99 ms | simulated p99 ms | p99 measured / simulated |");
            text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var size in servers > 1 ? new[] { 1, servers } : [1])
            {
                var balanced = Balancer(callers[..size]);
                foreach (var share in new[] { 0.3, 0.5, 0.7 })
                {
                    var rate = share * service.Capacity * size;
                    var measured = await LoadGenerator.OpenLoopAsync(rate, Arrivals.Poisson, window, balanced, new Random(7));
                    var simulated = FleetSimulator.Run(
                        ArrivalTrace.Poisson(rate, Math.Max(600, window.TotalSeconds * 20), seed: 7),
                        new FleetSettings(service, SyncPeriodSeconds: 1e9, InitialReplicas: size, SloSeconds: 1e9),
                        new FixedPolicy(size));
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"| {size} | {rate:F1} | {share:P0} | {measured.P50Ms:F2} | {simulated.P50Latency * 1000:F2} | {measured.P99Ms:F2} | {simulated.P99Latency * 1000:F2} | **{measured.P99Ms / (simulated.P99Latency * 1000):F2}x** |");
                }
            }

            return text.ToString();
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }

            foreach (var server in fleet)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Each request to the replica with the fewest in flight (the simulator's join-shortest-queue).</summary>
    private static Func<int, Task> Balancer(Func<int, Task>[] callers)
    {
        var inFlight = new int[callers.Length];
        return async _ =>
        {
            var target = 0;
            for (var k = 1; k < callers.Length; k++)
            {
                target = Volatile.Read(ref inFlight[k]) < Volatile.Read(ref inFlight[target]) ? k : target;
            }

            Interlocked.Increment(ref inFlight[target]);
            try
            {
                await callers[target](0);
            }
            finally
            {
                Interlocked.Decrement(ref inFlight[target]);
            }
        };
    }
}
