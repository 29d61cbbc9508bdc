using Turbine.Core.Execution;

namespace Turbine.Core.Lifecycle;

/// <summary>
/// Told about every version the manager loads and retires, on the loader's thread: monitoring reads a version's own
/// files (its reference profile) and settings here. Throwing <see cref="InferenceException"/> from
/// <see cref="Loaded"/> fails the version's load with the exception's message, as a configuration error does.
/// </summary>
public interface IVersionWatcher
{
    /// <summary>A version was loaded and is about to be warmed up and published.</summary>
    /// <exception cref="InferenceException">The version must not serve.</exception>
    void Loaded(VersionLoadContext context, IVersionRunner runner);

    /// <summary>A version stopped serving and was released (replaced by a reload, or unloaded).</summary>
    void Retired(IVersionRunner runner);
}
