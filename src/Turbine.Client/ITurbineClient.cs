namespace Turbine.Client;

/// <summary>A client of one Turbine (or any KServe v2 / Triton) server; the REST and gRPC clients both implement it.</summary>
public interface ITurbineClient : IDisposable
{
    /// <summary>Whether the server is live.</summary>
    Task<bool> IsServerLiveAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether the server is ready.</summary>
    Task<bool> IsServerReadyAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether a model (version) is ready.</summary>
    Task<bool> IsModelReadyAsync(string model, string? version = null, CancellationToken cancellationToken = default);

    /// <summary>The server's metadata.</summary>
    Task<ServerMetadata> GetServerMetadataAsync(CancellationToken cancellationToken = default);

    /// <summary>A model's metadata.</summary>
    Task<ModelMetadata> GetModelMetadataAsync(string model, string? version = null, CancellationToken cancellationToken = default);

    /// <summary>A model's configuration, as JSON text.</summary>
    Task<string> GetModelConfigJsonAsync(string model, string? version = null, CancellationToken cancellationToken = default);

    /// <summary>Statistics of every model, one model, or one version.</summary>
    Task<IReadOnlyList<ModelStatisticsSummary>> GetModelStatisticsAsync(string? model = null, string? version = null, CancellationToken cancellationToken = default);

    /// <summary>The repository index.</summary>
    Task<IReadOnlyList<RepositoryModel>> GetRepositoryIndexAsync(bool readyOnly = false, CancellationToken cancellationToken = default);

    /// <summary>Loads (or reloads) a model.</summary>
    Task LoadModelAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Unloads a model.</summary>
    Task UnloadModelAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Runs an inference. The caller disposes the response (it owns pooled buffers).</summary>
    /// <exception cref="TurbineClientException">The server refused or failed the request.</exception>
    Task<InferenceResponse> InferAsync(InferenceRequest request, CancellationToken cancellationToken = default);
}
