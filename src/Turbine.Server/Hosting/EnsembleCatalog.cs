using Microsoft.Extensions.Logging;
using Turbine.Core.Lifecycle;
using Turbine.Traffic.Pipelines;
using Turbine.Core.Repository;

namespace Turbine.Server.Hosting;

/// <summary>
/// Serves the repository's Triton ensemble folders as pipelines: all of them at start, and one at a time when the
/// repository API loads or unloads it (model control mode <c>explicit</c>), as Triton does for its ensembles.
/// </summary>
public sealed partial class EnsembleCatalog(ModelManager models, PipelineTable pipelines, ILogger<EnsembleCatalog> logger)
{
    /// <summary>Whether a load or unload of <paramref name="name"/> is an ensemble's (its folder, or the override, says so).</summary>
    public bool Handles(string name, string? configOverride) =>
        configOverride is null ? models.Repository.IsEnsemble(name) : ModelRepository.IsEnsembleConfig(configOverride);

    /// <summary>Declares every ensemble folder; one that does not read is logged and skipped.</summary>
    public void DeclareAll()
    {
        foreach (var name in models.Repository.ListEnsembles())
        {
            var error = Load(name, configOverride: null);
            if (error is null)
            {
                LogEnsemble(logger, name);
            }
            else
            {
                LogEnsembleFailed(logger, name, error.Message);
            }
        }
    }

    /// <summary>Reads the ensemble (from its folder, or <paramref name="configOverride"/>) and serves it, replacing what served under its name.</summary>
    public InferenceError? Load(string name, string? configOverride)
    {
        var errors = new List<string>();
        var json = configOverride ?? models.Repository.ConfigJson(name, errors);
        if (json is null || errors.Count > 0)
        {
            return InferenceError.Invalid(errors.Count > 0 ? string.Join("; ", errors) : $"ensemble '{name}' has both config.json and config.pbtxt; keep one");
        }

        var error = TritonEnsemble.Read(name, json, out var pipeline);
        if (error is null)
        {
            pipelines.Declare(pipeline!, replace: true);
        }

        return error;
    }

    /// <summary>Stops serving the ensemble; its folder stays. One that is not loaded stays so, as in Triton.</summary>
    /// <returns>Whether an ensemble of that name was serving.</returns>
    public bool Unload(string name) => pipelines.Remove(name);

    [LoggerMessage(EventId = LogEvents.EnsembleServing, Level = LogLevel.Information, Message = "Ensemble {Ensemble} serves as a pipeline")]
    private static partial void LogEnsemble(ILogger logger, string ensemble);

    [LoggerMessage(EventId = LogEvents.EnsembleFailed, Level = LogLevel.Error, Message = "Ensemble {Ensemble} cannot serve: {Reason}")]
    private static partial void LogEnsembleFailed(ILogger logger, string ensemble, string reason);
}
