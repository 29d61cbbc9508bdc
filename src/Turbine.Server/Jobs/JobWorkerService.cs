using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Turbine.Jobs.Execution;
using Turbine.Server.Hosting;
using Turbine.Traffic;

namespace Turbine.Server.Jobs;

/// <summary>
/// The server's job workers: each takes any job's next partition and sends its rows through the inference service on
/// the background lane, so online requests always go first. On shutdown a worker gives its partition back for another
/// worker to redo; nothing half-written is ever published.
/// </summary>
internal sealed partial class JobWorkerService(JobsProvider jobs, InferenceService inference, IOptions<TurbineServerOptions> options, TimeProvider time, ILogger<JobWorkerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Jobs;
        if (!jobs.Configured || settings.Workers <= 0)
        {
            return;
        }

        var control = await jobs.GetAsync(stoppingToken);
        var workers = Enumerable.Range(0, settings.Workers)
            .Select(_ => RunAsync(new JobWorker(control.Store, control.Storage, new ServiceJobInference(inference), time, logger) { PollInterval = settings.PollInterval }, settings.PollInterval * 5, stoppingToken))
            .ToList();
        await Task.WhenAll(workers);
    }

    private async Task RunAsync(JobWorker worker, TimeSpan retryDelay, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await worker.RunAsync(null, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The store or the storage is down (SECURITY.md F12), or a job's storage refused it: a worker never takes
                // the server down; serving goes on and the worker tries again (a partition it held is leased again later).
                LogWorkerFailed(logger, e.Message);
                await Task.Delay(retryDelay, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    [LoggerMessage(EventId = LogEvents.JobWorkerFailed, Level = LogLevel.Warning, Message = "A batch job worker stopped on an error and starts again: {Reason}")]
    private static partial void LogWorkerFailed(ILogger logger, string reason);
}
