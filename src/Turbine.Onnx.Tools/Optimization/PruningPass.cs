using System.Runtime.InteropServices;
using Onnx;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>
/// Pruning of dense layers. <see cref="Magnitude"/> zeroes the smallest weights of every constant MatMul/Gemm matrix
/// (unstructured: the file compresses, but dense kernels do the same work, so it is a step towards a sparse kernel or
/// a smaller model, not a speed-up by itself). <see cref="HiddenUnits"/> removes whole hidden units of
/// MatMul -> Add -> Relu -> MatMul chains, which really shrinks both matrices and so really speeds the model up.
/// </summary>
public static class PruningPass
{
    /// <summary>Zeroes the <paramref name="sparsity"/> share of smallest-magnitude weights in each MatMul/Gemm weight matrix.</summary>
    public static PruningReport Magnitude(string modelPath, string outputPath, double sparsity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sparsity, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sparsity, 1);
        var model = OnnxModelEditor.Read(modelPath);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(tensor => tensor.Name, StringComparer.Ordinal);
        var layers = new List<PrunedLayer>();
        foreach (var node in graph.Node.Where(GraphEdits.IsDenseProduct))
        {
            if (node.Input.Count < 2 || !initializers.TryGetValue(node.Input[1], out var weights) || !GraphEdits.IsFloatMatrix(weights))
            {
                continue;
            }

            var values = GraphEdits.Floats(weights);
            var cut = (int)(values.Length * sparsity);
            var order = Enumerable.Range(0, values.Length).OrderBy(i => Math.Abs(values[i])).Take(cut);
            foreach (var i in order)
            {
                values[i] = 0;
            }

            Replace(weights, values, weights.Dims[0], weights.Dims[1]);
            layers.Add(new PrunedLayer(weights.Name, values.Length, values.Count(v => v == 0), Shapes: $"{weights.Dims[0]}x{weights.Dims[1]}"));
        }

        OnnxModelEditor.Write(model, outputPath);
        return new PruningReport(layers, [], new FileInfo(modelPath).Length, new FileInfo(outputPath).Length);
    }

    /// <summary>
    /// Keeps the <paramref name="keep"/> share of hidden units (at least one) in each MatMul -> Add -> Relu -> MatMul chain
    /// whose weights and bias are constants read by that chain alone, ranked by how much each unit can carry: the norm
    /// of its incoming column times the norm of its outgoing row (units whose outgoing row is zero go first).
    /// </summary>
    public static PruningReport HiddenUnits(string modelPath, string outputPath, double keep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(keep, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(keep, 1);
        var model = OnnxModelEditor.Read(modelPath);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(tensor => tensor.Name, StringComparer.Ordinal);
        var readers = graph.Node.SelectMany(node => node.Input.Select(input => (input, node))).ToLookup(pair => pair.input, pair => pair.node, StringComparer.Ordinal);
        var chains = new List<string>();
        foreach (var first in graph.Node.Where(node => node.OpType == "MatMul").ToList())
        {
            var (w1, b1, w2) = Chain(first, readers, initializers);
            if (w1 is null)
            {
                continue;
            }

            var (k, hidden, n) = ((int)w1.Dims[0], (int)w1.Dims[1], (int)w2!.Dims[1]);
            var (a, bias, b) = (GraphEdits.Floats(w1), GraphEdits.Floats(b1!), GraphEdits.Floats(w2));
            var kept = Enumerable.Range(0, hidden)
                .OrderByDescending(h => Norm(k, i => a[(i * hidden) + h]) * Norm(n, j => b[(h * n) + j]))
                .Take(Math.Max(1, (int)Math.Round(hidden * keep)))
                .Order()
                .ToArray();
            Replace(w1, [.. Enumerable.Range(0, k).SelectMany(i => kept.Select(h => a[(i * hidden) + h]))], k, kept.Length);
            Replace(b1!, [.. kept.Select(h => bias[h])], kept.Length);
            Replace(w2, [.. kept.SelectMany(h => Enumerable.Range(0, n).Select(j => b[(h * n) + j]))], kept.Length, n);
            chains.Add($"{w1.Name}/{w2.Name}: {hidden} -> {kept.Length} hidden units");
        }

        graph.ValueInfo.Clear(); // intermediate shapes recorded for the old widths would now be wrong; ONNX Runtime infers them again
        OnnxModelEditor.Write(model, outputPath);
        return new PruningReport([], chains, new FileInfo(modelPath).Length, new FileInfo(outputPath).Length);
    }

    /// <summary>MatMul(x, W1) -> Add(b1) -> Relu -> MatMul(W2), each step read only by the next, with constant W1, b1, W2.</summary>
    private static (TensorProto? W1, TensorProto? B1, TensorProto? W2) Chain(NodeProto matMul, ILookup<string, NodeProto> readers, Dictionary<string, TensorProto> initializers)
    {
        NodeProto? Only(NodeProto node, string op) =>
            readers[node.Output[0]].ToList() is [var next] && next.OpType == op && next.Domain is "" or "ai.onnx" ? next : null;

        if (!initializers.TryGetValue(matMul.Input[1], out var w1) || !GraphEdits.IsFloatMatrix(w1) || readers[w1.Name].Count() != 1 ||
            Only(matMul, "Add") is not { } add || Only(add, "Relu") is not { } relu || Only(relu, "MatMul") is not { } second ||
            second.Input[0] != relu.Output[0])
        {
            return default;
        }

        var biasName = add.Input[0] == matMul.Output[0] ? add.Input[1] : add.Input[0];
        if (!initializers.TryGetValue(biasName, out var b1) || b1.Dims.Count != 1 || b1.Dims[0] != w1.Dims[1] || readers[biasName].Count() != 1 ||
            !initializers.TryGetValue(second.Input[1], out var w2) || !GraphEdits.IsFloatMatrix(w2) || w2.Dims[0] != w1.Dims[1] || readers[w2.Name].Count() != 1)
        {
            return default;
        }

        return (w1, b1, w2);
    }

    private static double Norm(int count, Func<int, float> value)
    {
        double sum = 0;
        for (var i = 0; i < count; i++)
        {
            sum += value(i) * (double)value(i);
        }

        return Math.Sqrt(sum);
    }

    private static void Replace(TensorProto tensor, float[] values, params long[] dims)
    {
        tensor.FloatData.Clear();
        tensor.RawData = Google.Protobuf.ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        tensor.Dims.Clear();
        tensor.Dims.AddRange(dims);
    }
}

/// <summary>One weight matrix after magnitude pruning.</summary>
/// <param name="Name">The initializer.</param>
/// <param name="Weights">Its element count.</param>
/// <param name="Zeros">How many are zero now.</param>
/// <param name="Shapes">Its shape.</param>
public sealed record PrunedLayer(string Name, int Weights, int Zeros, string Shapes)
{
    /// <summary>The share of zero weights.</summary>
    public double Sparsity => Weights == 0 ? 0 : (double)Zeros / Weights;
}

/// <summary>What pruning did.</summary>
/// <param name="Layers">Magnitude pruning: each matrix's sparsity.</param>
/// <param name="Chains">Hidden-unit pruning: each chain's width before and after.</param>
/// <param name="BytesBefore">The original file's size.</param>
/// <param name="BytesAfter">The pruned file's size.</param>
public sealed record PruningReport(IReadOnlyList<PrunedLayer> Layers, IReadOnlyList<string> Chains, long BytesBefore, long BytesAfter);
