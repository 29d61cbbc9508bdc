using Microsoft.Extensions.Hosting;
using Turbine.Monitoring.Cost;

namespace Turbine.Server.Hosting;

/// <summary>Settles the cost ledger every <see cref="CostOptions.SettleInterval"/>, so that idle and busy intervals are told apart between scrapes.</summary>
internal sealed class CostSettler(CostLedger ledger, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ledger.Options.SettleInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                ledger.Settle();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }
}
