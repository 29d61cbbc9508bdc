using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;

namespace Turbine.Server.Hosting;

/// <summary>
/// Loads the startup models before the server reports ready (all of them, or in <c>explicit</c> mode the listed
/// ones), and drains every model at shutdown.
/// </summary>
internal sealed partial class ModelLoaderService(
    ModelManager models, ServerReadiness readiness, IOptions<TurbineServerOptions> options, ILogger<ModelLoaderService> logger, RepositoryPoller? poller = null) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        LogLoading(logger, models.Repository.Root, settings.ModelControlMode);
        if (settings.ModelControlMode != ModelControlMode.Explicit)
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

        readiness.MarkLoaded();
        foreach (var entry in models.Index(readyOnly: false))
        {
            LogModelState(logger, entry.Name, entry.Version ?? "-", entry.State, entry.Reason);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await models.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "Loading models from {Repository} (model control mode {Mode})")]
    private static partial void LogLoading(ILogger logger, string repository, ModelControlMode mode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} version {Version}: {State} {Reason}")]
    private static partial void LogModelState(ILogger logger, string model, string version, ModelState state, string reason);
}
