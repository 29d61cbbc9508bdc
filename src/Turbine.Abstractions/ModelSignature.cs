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
    /// <summary>
    /// What a backend returns for model files that declare no inputs and outputs (TorchScript, C# code): the
    /// configuration must then list every input and output with its data type and dims.
    /// </summary>
    public static ModelSignature Undeclared { get; } = new([], []) { Declared = false };

    /// <summary>What inspection found worth telling but not worth refusing the model for (the loader logs each).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Whether the model file declares its inputs and outputs (false: the configuration is the only source).</summary>
    public bool Declared { get; init; } = true;
}
