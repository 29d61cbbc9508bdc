using Microsoft.Extensions.Hosting;
using Turbine.Core.Traffic;

namespace Turbine.Server.Hosting;

/// <summary>
/// Saves every route's A/B figures every <see cref="Interval"/> and once more at shutdown, so that an experiment
/// survives restarts; a process killed outright loses at most the last interval's feedback.
/// </summary>
internal sealed class RouteCheckpointService(RouteTable routes, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                routes.Checkpoint();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping: the last checkpoint is StopAsync's
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        routes.Checkpoint();
    }
}
