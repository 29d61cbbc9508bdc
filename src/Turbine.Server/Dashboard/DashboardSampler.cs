using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Turbine.Server.Hosting;

namespace Turbine.Server.Dashboard;

/// <summary>Takes a snapshot every interval (1 s by default) into the history, from start to shutdown.</summary>
internal sealed class DashboardSampler(SnapshotTaker taker, SnapshotHistory history, IOptions<TurbineServerOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        taker.Take(); // the baseline the first interval's rates are measured from
        using var timer = new PeriodicTimer(options.Value.Dashboard.Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                history.Add(taker.Take());
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
