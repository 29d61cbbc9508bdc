using Onnx;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>What a graph is made of: nodes per operator type (domain-qualified outside the default domain) and its initializers.</summary>
/// <param name="Operators">Node count per operator, e.g. <c>MatMul</c> or <c>com.microsoft.FusedMatMul</c>.</param>
/// <param name="Nodes">All nodes of the main graph.</param>
/// <param name="Initializers">Constant tensors (weights) of the main graph.</param>
public sealed record OpCensus(IReadOnlyDictionary<string, int> Operators, int Nodes, int Initializers)
{
    /// <summary>Counts the main graph of a model file.</summary>
    public static OpCensus Of(string modelPath)
    {
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath)).Graph ?? new GraphProto();
        var operators = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            var name = node.Domain is "" or "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";
            operators[name] = operators.GetValueOrDefault(name) + 1;
        }

        return new OpCensus(operators, graph.Node.Count, graph.Initializer.Count);
    }
}
