using Turbine.Core.Execution;

namespace Turbine.Core.Lifecycle;

/// <summary>An immutable view of one model, swapped atomically on load, reload and unload.</summary>
internal sealed record ModelSnapshot(string Name, ModelConfig? Config, IReadOnlyList<ModelVersionStatus> Versions, IReadOnlyList<ModelVersionRunner> Runners, string Reason)
{
    public static ModelSnapshot Unavailable(string name, string reason, IReadOnlyList<ModelVersionStatus>? versions = null) =>
        new(name, null, versions ?? [], [], reason);

    /// <summary>The runner for a version, or the newest ready one when <paramref name="version"/> is 0.</summary>
    public ModelVersionRunner? Runner(long version)
    {
        ModelVersionRunner? newest = null;
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
}
