using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;
using Turbine.Traffic.Pipelines;
using Turbine.Core.Repository;
using Turbine.Traffic;
using Turbine.Server.Http;

namespace Turbine.Server.Hosting;

/// <summary>
/// Loads the startup models before the server reports ready (all of them, or in <c>explicit</c> mode the listed
/// ones), and drains every model at shutdown.
/// </summary>
internal sealed partial class ModelLoaderService(
    ModelManager models, EnsembleCatalog ensembles, PipelineTable pipelines, RouteTable routes, TrafficValidator validator, IConfiguration configuration,
    ServerReadiness readiness, IOptions<TurbineServerOptions> options, ILogger<ModelLoaderService> logger, RepositoryPoller? poller = null, ModelPager? pager = null) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        LogLoading(logger, models.Repository.Root, settings.ModelControlMode);
        ensembles.DeclareAll();
        if (pager is not null)
        {
            // Paged: the pinned models load now, the rest on their first request (and explicit mode's listed ones too).
            await pager.LoadPinnedAsync(cancellationToken);
            await models.LoadAsync(settings.ModelControlMode == ModelControlMode.Explicit ? settings.LoadModels.Where(name => name != "*") : [], cancellationToken);
        }
        else if (settings.ModelControlMode != ModelControlMode.Explicit)
        {
            var baseline = RepositoryScan.Take(models.Repository); // taken first: a change during the load is seen by the first poll
            await models.LoadAllAsync(cancellationToken);
            poller?.Baseline(baseline);
        }
        else if (settings.LoadModels.Contains("*"))
        {
            await models.LoadAllAsync(cancellationToken);
        }
        else
        {
            await models.LoadAsync(settings.LoadModels, cancellationToken);
        }

        DeclareConfiguredTraffic();
        readiness.MarkLoaded();
        foreach (var entry in models.Index(readyOnly: false))
        {
            LogModelState(logger, entry.Name, entry.Version ?? "-", entry.State, entry.Reason);
        }
    }

    /// <summary>
    /// Pipelines, then routes (which may send to them), from the <c>Turbine:Pipelines</c> and <c>Turbine:Routes</c>
    /// sections, checked like the API's bodies once the models are loaded. One that fails is logged and skipped; one
    /// that the API saved under the same name keeps it.
    /// </summary>
    private void DeclareConfiguredTraffic()
    {
        var depth = options.Value.MaxJsonDepth;
        foreach (var section in configuration.GetSection(TurbineServerOptions.Section + ":Pipelines").GetChildren())
        {
            var error = PipelineJson.Read(ConfigurationJson.ToJson(section), section.Key, depth, out var pipeline) ?? validator.Check(pipeline!);
            LogDeclared(logger, "pipeline", section.Key, error is null ? (pipelines.Declare(pipeline!) ? "serves" : "was set through the API; that one serves") : error.Message);
        }

        foreach (var section in configuration.GetSection(TurbineServerOptions.Section + ":Routes").GetChildren())
        {
            var error = RouteJson.Read(ConfigurationJson.ToJson(section), section.Key, depth, out var route) ?? validator.Check(route!);
            LogDeclared(logger, "route", section.Key, error is null ? (routes.Declare(route!) ? "serves" : "was set through the API; that one serves") : error.Message);
        }
    }

    /// <summary>
    /// Runs before the web server stops (hosted services stop in reverse order), so requests in flight drain through
    /// their models while new ones are refused. Bounded by the host's one shutdown countdown (the exit timeout): a
    /// model run that never returns does not keep the process alive.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await models.DisposeAsync().AsTask().WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogExitTimeout(logger);
        }
    }

    [LoggerMessage(EventId = LogEvents.Declared, Level = LogLevel.Information, Message = "Configured {Kind} {Name}: {Outcome}")]
    private static partial void LogDeclared(ILogger logger, string kind, string name, string outcome);

    [LoggerMessage(EventId = LogEvents.ExitTimeout, Level = LogLevel.Warning, Message = "The exit timeout ran out before every model drained; stopping anyway")]
    private static partial void LogExitTimeout(ILogger logger);

    [LoggerMessage(EventId = LogEvents.RepositoryLoading, Level = LogLevel.Information, Message = "Loading models from {Repository} (model control mode {Mode})")]
    private static partial void LogLoading(ILogger logger, string repository, ModelControlMode mode);

    [LoggerMessage(EventId = LogEvents.VersionState, Level = LogLevel.Information, Message = "Model {Model} version {Version}: {State} {Reason}")]
    private static partial void LogModelState(ILogger logger, string model, string version, ModelState state, string reason);
}
