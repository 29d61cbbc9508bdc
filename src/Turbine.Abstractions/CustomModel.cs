namespace Turbine;

/// <summary>
/// A model written in C#, served by the <c>dotnet</c> backend: the counterpart of Triton's Python backend, for pre-
/// and post-processing (tokenize, resize, decode boxes) and for business logic that calls other models (Triton's BLS)
/// through <see cref="CustomModelContext.Models"/>. A model folder holds the compiled assembly (<c>model.dll</c>) or
/// its C# source (<c>model.cs</c>), whose one public class implementing this interface is created once per instance
/// (<c>instance_group.count</c>); an instance answers one request at a time. If the class is
/// <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>, it is disposed when its version unloads.
/// docs/BACKENDS.md ("Custom C# models") has the whole contract.
/// </summary>
public interface ICustomModel
{
    /// <summary>Called once per instance, before its first request, with what the version was loaded with.</summary>
    /// <exception cref="InferenceException">The instance cannot serve; the version fails to load with the message.</exception>
    ValueTask InitializeAsync(CustomModelContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// Answers one request with its outputs: every output of the configuration (or those the request asked for), each
    /// with the configuration's name and data type and a shape its dims allow. The request's input tensors belong to
    /// the server: copy what must outlive the call.
    /// </summary>
    /// <exception cref="InferenceException">The request cannot be answered; the client gets the error's status and message.</exception>
    ValueTask<IReadOnlyList<Tensor>> ExecuteAsync(CustomModelRequest request, CancellationToken cancellationToken);
}

/// <summary>What a custom model instance is loaded with.</summary>
/// <param name="Config">The model's completed configuration.</param>
/// <param name="Version">The version number.</param>
/// <param name="Folder">The version's folder (for files the model reads: vocabularies, label maps).</param>
/// <param name="Models">Runs requests on the other models, routes and pipelines of this server.</param>
public sealed record CustomModelContext(ModelConfig Config, long Version, string Folder, IModelClient Models);

/// <summary>One request to a custom model.</summary>
/// <param name="Id">The client's request id, if any.</param>
/// <param name="Inputs">The inputs, validated against the configuration.</param>
/// <param name="RequestedOutputs">The outputs the client asked for; empty for all of them.</param>
/// <param name="Parameters">The request's parameters.</param>
public sealed record CustomModelRequest(string? Id, IReadOnlyList<Tensor> Inputs, IReadOnlyList<string> RequestedOutputs, IReadOnlyDictionary<string, object> Parameters)
{
    /// <summary>The input named <paramref name="name"/>.</summary>
    /// <exception cref="InferenceException">The request has no such input (an optional one left out).</exception>
    public Tensor Input(string name)
    {
        foreach (var input in Inputs)
        {
            if (input.Name == name)
            {
                return input;
            }
        }

        throw new InferenceException(InferenceError.Invalid($"the request has no input '{name}'"));
    }
}

/// <summary>Runs requests on the models of the server a custom model is served by (Triton's business logic scripting).</summary>
public interface IModelClient
{
    /// <summary>
    /// Runs <paramref name="request"/> on the model, route or pipeline it names, as a client request would run (the
    /// response cache, batching and routes included). The caller disposes the response.
    /// </summary>
    /// <exception cref="InferenceException">The request failed; the error says how.</exception>
    ValueTask<InferenceResponse> InferAsync(InferenceRequest request, CancellationToken cancellationToken);
}
