namespace Turbine.Edge.Updates.Tuf;

/// <summary>The most bytes the client reads for each metadata file whose length nothing signed gives (endless-data attacks).</summary>
/// <param name="Root">Root metadata.</param>
/// <param name="Timestamp">Timestamp metadata.</param>
/// <param name="Snapshot">Snapshot metadata, when timestamp gives no length.</param>
/// <param name="Targets">Targets metadata, when snapshot gives no length.</param>
/// <param name="MaxRootRotations">The most new root versions taken in one refresh.</param>
public sealed record TufLimits(long Root = 512 * 1024, long Timestamp = 16 * 1024, long Snapshot = 2 * 1024 * 1024, long Targets = 5 * 1024 * 1024, int MaxRootRotations = 32)
{
    /// <summary>The defaults.</summary>
    public static readonly TufLimits Default = new();
}
