namespace Turbine;

/// <summary>A tensor as a model file declares it: full shape, -1 where dynamic.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DataType">The element type.</param>
/// <param name="Shape">The full shape including any batch dimension; -1 where unknown.</param>
/// <param name="Optional">An input a request may leave out.</param>
public sealed record TensorSignature(string Name, DataType DataType, long[] Shape, bool Optional = false);

/// <summary>The inputs and outputs a model file declares, read without running it.</summary>
/// <param name="Inputs">The graph inputs (initializers excluded).</param>
/// <param name="Outputs">The graph outputs.</param>
public sealed record ModelSignature(IReadOnlyList<TensorSignature> Inputs, IReadOnlyList<TensorSignature> Outputs)
{
    /// <summary>What inspection found worth telling but not worth refusing the model for (the loader logs each).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
