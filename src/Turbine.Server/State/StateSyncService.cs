using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;
using Turbine.Core.State;
using Turbine.Server.Hosting;
using Turbine.Traffic;
using Turbine.Traffic.Pipelines;

namespace Turbine.Server.State;

/// <summary>
/// Keeps this server's share of the state store in step. Every <see cref="TurbineServerOptions.StateSyncInterval"/>,
/// and once more at shutdown, it saves every route's figures (so an experiment survives restarts) and any rollout
/// decision whose journal write failed; with a store that replicas share, it also publishes this replica's canary
/// figures, applies the feedback other replicas forwarded, and, on the leader, judges the rollouts. Changes other
/// replicas make arrive as they commit and are applied on this service's own loop, in order. A store that fails
/// is logged once when it starts failing and once when it recovers, counted in
/// <c>turbine_state_store_errors_total</c>, and tried again: it never stops the host, and after a failure to apply a
/// change everything is read again.
/// </summary>
internal sealed partial class StateSyncService : BackgroundService
{
    private readonly IStateStore _store;
    private readonly RouteTable _routes;
    private readonly PipelineTable _pipelines;
    private readonly ModelManager _models;
    private readonly StateStoreHealth _health;
    private readonly TimeProvider _time;
    private readonly TurbineServerOptions _options;
    private readonly ILogger<StateSyncService> _logger;

    /// <summary>Changes heard from other replicas; bounded: when it overflows, everything is read again instead.</summary>
    private readonly Channel<StateChange> _changes = Channel.CreateBounded<StateChange>(new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private int _readEverything;

    public StateSyncService(
        IStateStore store, RouteTable routes, PipelineTable pipelines, ModelManager models, StateStoreHealth health, TimeProvider time,
        IOptions<TurbineServerOptions> options, ILogger<StateSyncService> logger)
    {
        (_store, _routes, _pipelines, _models, _health, _time, _options, _logger) = (store, routes, pipelines, models, health, time, options.Value, logger);
        _store.Changed += OnChanged;
    }

    /// <summary>How often figures are saved and the shared work is done.</summary>
    public TimeSpan Interval => _options.StateSyncInterval ?? (_store.IsShared ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(10));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _store.Changed -= OnChanged;
        await base.StopAsync(cancellationToken);
        Checkpoint();
        if (_store is PostgresStateStore shared)
        {
            await shared.ResignAsync(); // a replica that stops hands the leadership on at once, not when its process ends
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(TickAsync(stoppingToken), ApplyChangesAsync(stoppingToken));

    /// <summary>One tick: save the figures, do the shared work, read everything again if a change may have been missed.</summary>
    internal void Checkpoint()
    {
        var (failed, first) = _routes.Checkpoint();
        var (unsynced, firstSync) = _routes.Sync(_options.MaxJsonDepth);
        failed += unsynced;
        first ??= firstSync;
        if (Interlocked.Exchange(ref _readEverything, 0) == 1)
        {
            _changes.Writer.TryWrite(StateChange.Everything);
        }

        Record(failed, first);
    }

    private async Task TickAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
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

    private async Task ApplyChangesAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in _changes.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await ApplyAsync(change, stoppingToken);
                    Record(0, null);
                }
                catch (IOException e)
                {
                    Volatile.Write(ref _readEverything, 1); // read it all at the next tick, when the store may be back
                    Record(1, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task ApplyAsync(StateChange change, CancellationToken cancellationToken)
    {
        if (change.IsEverything)
        {
            _routes.RefreshAll();
            _pipelines.RefreshAll();
            foreach (var model in _models.KnownModels)
            {
                await _models.RefreshRoutingAsync(model, cancellationToken);
            }

            foreach (var route in _routes.All)
            {
                _routes.FollowRollout(route.Name);
            }

            return;
        }

        switch (change.Kind)
        {
            case StateKinds.Routes:
                _routes.Refresh(change.Name);
                break;
            case StateKinds.Pipelines:
                _pipelines.Refresh(change.Name);
                break;
            case StateKinds.VersionRouting:
                await _models.RefreshRoutingAsync(change.Name, cancellationToken);
                break;
            case StateKinds.CanaryProgress:
                _routes.FollowRollout(change.Name);
                break;
            default:
                return; // figures and logs are read at the next tick
        }

        LogApplied(_logger, change.Kind, change.Name);
    }

    private void OnChanged(StateChange change)
    {
        if (!_changes.Writer.TryWrite(change))
        {
            Volatile.Write(ref _readEverything, 1);
        }
    }

    private void Record(int failed, Exception? first)
    {
        if (!_health.Record(failed))
        {
            return;
        }

        if (failed > 0)
        {
            LogFailing(_logger, first!, failed);
        }
        else
        {
            LogRecovered(_logger);
        }
    }

    [LoggerMessage(EventId = LogEvents.StateStoreFailed, Level = LogLevel.Error, Message = "Saving or reading shared state failed ({Failures} failure(s)); retrying every sync")]
    private static partial void LogFailing(ILogger logger, Exception error, int failures);

    [LoggerMessage(EventId = LogEvents.StateStoreRecovered, Level = LogLevel.Information, Message = "The state store works again")]
    private static partial void LogRecovered(ILogger logger);

    [LoggerMessage(EventId = LogEvents.StateChangeApplied, Level = LogLevel.Information, Message = "Applied a change another replica made: {Kind} '{Name}'")]
    private static partial void LogApplied(ILogger logger, string kind, string name);
}
