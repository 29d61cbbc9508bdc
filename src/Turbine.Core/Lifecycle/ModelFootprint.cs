namespace Turbine.Core.Lifecycle;

/// <summary>What a loaded model is taken to occupy: its model files' bytes, in host memory or on a GPU.</summary>
/// <param name="Bytes">The bytes of the versions that load.</param>
/// <param name="OnGpu">Whether its instances run on a GPU, where the weights then live.</param>
public readonly record struct ModelFootprint(long Bytes, bool OnGpu);
