using System.Globalization;
using System.Text;
using Turbine.Autoscaling;
using Turbine.Cli.Bench;
using Turbine.Client;

namespace Turbine.Bench;

/// <summary>
/// The autoscaling simulator against real servers (issue 18): one server's service is measured (a lone request's
/// p50; the throughput of 16 callers), then Poisson traffic at several rates is sent to a fleet of real servers
/// behind a least-in-flight balancer in the load generator, and the measured p50/p99 are set beside what the
/// simulator predicts for the same fleet, service model and rate.
/// </summary>
internal static class AutoscaleCheckScenario
{
    public static async Task<string> RunAsync(BenchModel model, Scenarios scenarios, int servers, TimeSpan window)
    {
        var fleet = new List<Turbine.Server.Hosting.TurbineServer>();
        var clients = new List<TurbineGrpcClient>();
        try
        {
            for (var k = 0; k < servers; k++)
            {
                fleet.Add(await scenarios.StartTurbineAsync());
                clients.Add(new TurbineGrpcClient(new Uri($"http://127.0.0.1:{fleet[^1].GrpcPort}/")));
            }

            var single = ArmRounds.GrpcCaller(clients[0], model, model.Name, model.InputName);
            await LoadGenerator.ClosedLoopAsync(16, TimeSpan.FromSeconds(2), single);
            var alone = await LoadGenerator.ClosedLoopAsync(1, window, single);
            var busy = await LoadGenerator.ClosedLoopAsync(16, window, single);
            var service = new ServiceModel(Math.Max(1, (int)Math.Round(busy.Throughput * alone.P50Ms / 1000)), alone.P50Ms / 1000);
            var inFlight = new int[servers];
            var callers = clients.Select(c => ArmRounds.GrpcCaller(c, model, model.Name, model.InputName)).ToArray();
            async Task Balanced(int _)
            {
                var target = 0;
                for (var k = 1; k < servers; k++)
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
            }

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"model `{model.Name}`, {servers} in-process servers on {Environment.ProcessorCount} cores; one server measured: lone p50 {alone.P50Ms:F2} ms, {busy.Throughput:F0} requests/s with 16 callers → {service.Slots} at once, {service.MeanServiceSeconds * 1000:F2} ms each; Poisson windows of {window.TotalSeconds} s");
            text.AppendLine();
            text.AppendLine("| rate (req/s) | load on the fleet | measured p50 ms | simulated p50 ms | measured p99 ms | simulated p99 ms | p99 measured / simulated |");
            text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var share in new[] { 0.3, 0.5, 0.7 })
            {
                var rate = share * service.Capacity * servers;
                var measured = await LoadGenerator.OpenLoopAsync(rate, Arrivals.Poisson, window, Balanced, new Random(7));
                var simulated = FleetSimulator.Run(
                    ArrivalTrace.Poisson(rate, window.TotalSeconds * 10, seed: 7),
                    new FleetSettings(service with { QueueLimit = int.MaxValue }, SyncPeriodSeconds: 1e9, InitialReplicas: servers, SloSeconds: 1e9),
                    new FixedPolicy(servers));
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {rate:F0} | {share:P0} | {measured.P50Ms:F2} | {simulated.P50Latency * 1000:F2} | {measured.P99Ms:F2} | {simulated.P99Latency * 1000:F2} | **{measured.P99Ms / (simulated.P99Latency * 1000):F2}x** |");
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
}
