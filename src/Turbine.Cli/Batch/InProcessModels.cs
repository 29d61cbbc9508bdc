using Microsoft.Extensions.Logging;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Onnx;
using Turbine.Server.Jobs;
using Turbine.Traffic;

namespace Turbine.Cli.Batch;

/// <summary>A job's model loaded in this process from a repository folder, behind the inference service that workers call.</summary>
internal sealed class InProcessModels : IAsyncDisposable
{
    private readonly ModelManager _models;

    private InProcessModels(ModelManager models)
    {
        _models = models;
        Inference = new ServiceJobInference(new InferenceService(models));
    }

    public ServiceJobInference Inference { get; }

    /// <summary>Loads <paramref name="model"/> from <paramref name="repository"/>; the load error's message when it fails.</summary>
    public static async Task<(InProcessModels? Models, string? Error)> LoadAsync(string repository, string model, ILoggerFactory logging, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(repository))
        {
            return (null, $"the model repository '{repository}' does not exist");
        }

        var models = new ModelManager(new ModelRepository(repository), new BackendRegistry([new OnnxBackend(), new Turbine.Onnx.Trees.TreeBackend()]), TimeProvider.System, logging.CreateLogger<ModelManager>());
        if (await models.LoadAsync(model, cancellationToken) is { } error)
        {
            await models.DisposeAsync();
            return (null, $"model '{model}' did not load: {error.Message}");
        }

        return (new InProcessModels(models), null);
    }

    public ValueTask DisposeAsync() => _models.DisposeAsync();
}
