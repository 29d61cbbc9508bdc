using Turbine.Core.Execution;

namespace Turbine.Core.Lifecycle;

/// <summary>An immutable view of one model, swapped atomically on load, reload and unload.</summary>
/// <param name="Name">The model name.</param>
/// <param name="Versions">Every version known, with its state and the reason it is not ready.</param>
/// <param name="Runners">The versions that serve.</param>
/// <param name="Reason">Why the last load failed, or empty.</param>
/// <param name="Stamps">For each serving version, what it was loaded from (<see cref="VersionLoader"/>).</param>
internal sealed record ModelSnapshot(string Name, IReadOnlyList<ModelVersionStatus> Versions, IReadOnlyList<IVersionRunner> Runners, string Reason, IReadOnlyDictionary<long, string> Stamps)
{
    public static ModelSnapshot Unavailable(string name, string reason, IReadOnlyList<ModelVersionStatus>? versions = null) =>
        new(name, versions ?? [], [], reason, new Dictionary<long, string>());

    /// <summary>The runner for a version, or the newest ready one when <paramref name="version"/> is 0.</summary>
    public IVersionRunner? Runner(long version)
    {
        IVersionRunner? newest = null;
        foreach (var runner in Runners)
        {
            if (runner.Version == version)
            {
                return runner;
            }

            if (version == 0 && (newest is null || runner.Version > newest.Version))
            {
                newest = runner;
            }
        }

        return newest;
    }

    /// <summary>Whether the repository lists <paramref name="version"/> for this model (ready or not).</summary>
    public bool Knows(long version)
    {
        foreach (var status in Versions)
        {
            if (status.Version == version)
            {
                return true;
            }
        }

        return false;
    }
}
