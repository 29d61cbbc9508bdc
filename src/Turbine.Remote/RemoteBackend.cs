using Turbine.Core.Execution;

namespace Turbine.Remote;

/// <summary>
/// Remote models (<c>"backend": "remote"</c>): each version folder holds a <c>remote.json</c> naming a model on another
/// KServe v2 server (a Turbine, a Triton); its inputs and outputs are read from that server's metadata at load, and
/// requests are forwarded to it by a <see cref="RemoteRunner"/>. So routes, canaries, shadows and pipelines can span
/// machines and regions with the same versions, warm-up, statistics and errors as local models.
/// </summary>
public sealed class RemoteBackend : IModelBackend, IVersionRunnerFactory
{
    public const string BackendName = "remote";

    /// <inheritdoc />
    public string Name => BackendName;

    /// <inheritdoc />
    public string DefaultModelFileName => RemoteTarget.FileName;

    /// <inheritdoc />
    /// <remarks>Asks the remote server for the model's metadata (10 s at most): a remote that cannot answer fails the load.</remarks>
    public ModelSignature Inspect(string modelPath)
    {
        var target = RemoteTarget.Read(modelPath);
        using var client = RemoteConnection.Open(target);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            // Inspection is synchronous (the loader's thread, at load, never on a request): the wait is bounded above.
            var metadata = client.GetModelMetadataAsync(target.Model, target.Version, timeout.Token).GetAwaiter().GetResult();
            return new ModelSignature(
                [.. metadata.Inputs.Select(i => new TensorSignature(i.Name, i.DataType, i.Shape))],
                [.. metadata.Outputs.Select(o => new TensorSignature(o.Name, o.DataType, o.Shape))]);
        }
        catch (Exception e) when (e is Client.TurbineClientException or Grpc.Core.RpcException or HttpRequestException or OperationCanceledException)
        {
            throw new InferenceException($"the remote model '{target.Model}' at {target.Url} did not give its metadata: {e.Message}");
        }
    }

    /// <inheritdoc />
    public IModelInstance CreateInstance(string modelPath, ModelConfig config) =>
        throw new NotSupportedException("remote models are served by their runner (IVersionRunnerFactory), never by instances");

    /// <inheritdoc />
    public IVersionRunner CreateRunner(VersionLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var target = RemoteTarget.Read(context.ModelPath);
        return new RemoteRunner(target, context, RemoteConnection.Open(target), target.Hedge is { } hedge ? RemoteConnection.Open(hedge) : null);
    }
}
