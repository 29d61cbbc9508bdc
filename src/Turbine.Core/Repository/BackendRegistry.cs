namespace Turbine.Core.Repository;

/// <summary>
/// The backends a server runs models with, by name. A model configuration picks one with <c>backend</c>, or with a
/// Triton <c>platform</c> that a backend answers to; one that names neither runs on the backend that claims its
/// folder (<see cref="IModelBackend.Claims"/>), else on <see cref="DefaultBackend"/>.
/// A backend registered later under a name already taken replaces the earlier one, so a host can swap one out.
/// </summary>
public sealed class BackendRegistry
{
    /// <summary>The backend of a configuration that names none, as Turbine has always defaulted.</summary>
    public const string DefaultBackend = "onnxruntime";

    private readonly Dictionary<string, IModelBackend> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IModelBackend> _byPlatform = new(StringComparer.Ordinal);

    /// <summary>Registers <paramref name="backends"/>, later ones winning a name or platform both claim.</summary>
    public BackendRegistry(IEnumerable<IModelBackend> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        foreach (var backend in backends)
        {
            _byName[backend.Name] = backend;
            foreach (var platform in backend.Platforms)
            {
                _byPlatform[platform] = backend;
            }
        }

        Names = [.. _byName.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>The names of the registered backends, sorted.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>A registry of one backend.</summary>
    public static BackendRegistry Of(IModelBackend backend) => new([backend]);

    /// <summary>The backend a configuration selects; null with <paramref name="error"/> saying what is known when none matches.</summary>
    /// <param name="backend">The configuration's <c>backend</c>, if any.</param>
    /// <param name="platform">The configuration's <c>platform</c>, if any.</param>
    /// <param name="error">Why nothing matched.</param>
    /// <param name="modelFolder">The model's folder, which a backend may claim when the configuration names none.</param>
    public IModelBackend? Resolve(string? backend, string? platform, out string? error, string? modelFolder = null)
    {
        error = null;
        if (backend is not null)
        {
            if (_byName.TryGetValue(backend, out var named))
            {
                return named;
            }

            error = $"backend '{ClientText.Quote(backend)}' is not supported; supported: {string.Join(", ", Names)}";
            return null;
        }

        if (platform is not null)
        {
            if (_byPlatform.TryGetValue(platform, out var byPlatform))
            {
                return byPlatform;
            }

            error = $"platform '{ClientText.Quote(platform)}' is not supported; set 'backend' to one of: {string.Join(", ", Names)}";
            return null;
        }

        if (modelFolder is not null && _byName.Values.FirstOrDefault(b => b.Claims(modelFolder)) is { } claimant)
        {
            return claimant;
        }

        if (_byName.TryGetValue(DefaultBackend, out var fallback))
        {
            return fallback;
        }

        error = $"the configuration names no 'backend'; known: {string.Join(", ", Names)}";
        return null;
    }
}
