using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Turbine.Core.State;
using Turbine.Traffic;

namespace Turbine.Server.Hosting;

/// <summary>
/// Saves every route's A/B figures (and any rollout decision whose journal write failed) every
/// <see cref="Interval"/> and once more at shutdown, so that an experiment survives restarts; a process killed outright
/// loses at most the last interval's feedback. A write that fails (disk full, read-only volume) is logged once when
/// the store starts failing and once when it recovers, counted in <c>turbine_state_store_errors_total</c>, and tried
/// again at the next tick: it never stops the host.
/// </summary>
internal sealed partial class RouteCheckpointService(RouteTable routes, StateStoreHealth health, TimeProvider time, ILogger<RouteCheckpointService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Checkpoint();
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
        Checkpoint();
    }

    /// <summary>One checkpoint, as each tick runs it.</summary>
    internal void Checkpoint()
    {
        var (failed, first) = routes.Checkpoint();
        if (!health.Record(failed))
        {
            return;
        }

        if (failed > 0)
        {
            LogFailing(logger, first!, failed);
        }
        else
        {
            LogRecovered(logger);
        }
    }

    [LoggerMessage(EventId = LogEvents.StateStoreFailed, Level = LogLevel.Error, Message = "Saving route state failed for {Routes} route(s); retrying every checkpoint")]
    private static partial void LogFailing(ILogger logger, Exception error, int routes);

    [LoggerMessage(EventId = LogEvents.StateStoreRecovered, Level = LogLevel.Information, Message = "Saving route state works again")]
    private static partial void LogRecovered(ILogger logger);
}
