using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Turbine.Core.Lifecycle;

namespace Turbine.Server.Hosting;

/// <summary>Loads every model of the repository at startup, before the server reports ready; drains them at shutdown.</summary>
internal sealed partial class ModelLoaderService(ModelManager models, ServerReadiness readiness, ILogger<ModelLoaderService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        LogLoading(logger, models.Repository.Root);
        await models.LoadAllAsync(cancellationToken);
        readiness.MarkLoaded();
        foreach (var entry in models.Index(readyOnly: false))
        {
            LogModelState(logger, entry.Name, entry.Version ?? "-", entry.State, entry.Reason);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await models.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "Loading models from {Repository}")]
    private static partial void LogLoading(ILogger logger, string repository);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} version {Version}: {State} {Reason}")]
    private static partial void LogModelState(ILogger logger, string model, string version, ModelState state, string reason);
}
