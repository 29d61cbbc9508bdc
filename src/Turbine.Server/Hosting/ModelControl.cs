using Microsoft.Extensions.Options;
using Turbine.Core.Lifecycle;

namespace Turbine.Server.Hosting;

/// <summary>
/// The load and unload API behind both protocols, as the model control mode allows it: only in <c>explicit</c> mode
/// (in <c>none</c> the models are fixed at startup, in <c>poll</c> the repository decides), as in Triton.
/// </summary>
internal sealed class ModelControl(ModelManager models, EnsembleCatalog ensembles, IOptions<TurbineServerOptions> options)
{
    private readonly ModelControlMode _mode = options.Value.ModelControlMode;

    /// <summary>Loads (or reloads) a model from the files sent with the request (none: from the repository), or an ensemble, which serves as a pipeline.</summary>
    public async Task<InferenceError?> LoadAsync(string name, string? configOverride, IReadOnlyList<ModelFileUpload> files, CancellationToken cancellationToken) =>
        Refusal() ?? (files.Count == 0 && ensembles.Handles(name, configOverride)
            ? ensembles.Load(name, configOverride)
            : await models.LoadAsync(name, cancellationToken, configOverride, files));

    public async Task<InferenceError?> UnloadAsync(string name, CancellationToken cancellationToken)
    {
        if (Refusal() is { } refusal)
        {
            return refusal;
        }

        if (ensembles.Handles(name, null))
        {
            _ = ensembles.Unload(name); // not loaded: a success that changes nothing, as in Triton
            return null;
        }

        return await models.UnloadAsync(name, cancellationToken);
    }

    private InferenceError? Refusal() => _mode switch
    {
        ModelControlMode.Explicit => null,
        ModelControlMode.Poll => InferenceError.Invalid("explicit model load / unload is not allowed if polling is enabled"),
        _ => InferenceError.Invalid("explicit model load / unload is not allowed when the model control mode is 'none'; start the server with model control mode 'explicit'"),
    };
}
