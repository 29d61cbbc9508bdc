using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Turbine.Server.Hosting;

/// <summary>
/// Keeps the listeners open for <see cref="TurbineServerOptions.ShutdownDelay"/> after shutdown begins: readiness is
/// already false and new inference requests get 503, so a load balancer (a Kubernetes Service) has time to take the
/// replica out of rotation before its sockets close. It runs before every service's stop and counts against the one
/// exit timeout.
/// </summary>
internal sealed class ShutdownDelay(ServerReadiness readiness, IOptions<TurbineServerOptions> options, TimeProvider time) : IHostedLifecycleService
{
    /// <summary>Runs before the host raises ApplicationStopping, so readiness is turned off here, first.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        readiness.BeginStopping();
        var delay = options.Value.ShutdownDelay;
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // the exit timeout ran out: stop now
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
