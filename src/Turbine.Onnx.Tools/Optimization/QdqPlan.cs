using System.Runtime.InteropServices;
using Onnx;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>
/// Where the static int8 pass puts its Q/DQ pairs: the activations into and out of quantized operators, the
/// weights of the weighted ones, and the Relus folded into the range before them. Made from the prepared graph
/// (<see cref="Of"/>), which calibration then runs; applied with the calibrated ranges (<see cref="Apply"/>).
/// </summary>
internal sealed class QdqPlan
{
    private readonly Dictionary<string, TensorProto> _initializers;
    private readonly Dictionary<string, string> _foldedInto = new(StringComparer.Ordinal); // producer output -> the folded Relu's output
    // Nodes by reference: a protobuf message's equality and hash follow its contents, which the rewrite changes.
    private readonly HashSet<NodeProto> _foldedRelus = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<NodeProto, int> _weightAxis = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<NodeProto> _quantized = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _activations = new(StringComparer.Ordinal);

    private QdqPlan(GraphProto graph) => _initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The activations calibration must give a range, by their names in the prepared graph.</summary>
    public IReadOnlyCollection<string> Calibrated => _activations;

    /// <summary>Weighted operators left in fp32, with the reason.</summary>
    public List<(string Node, string Reason)> Skipped { get; } = [];

    /// <summary>Relus folded into a quantized range.</summary>
    public int RemovedActivations => _foldedRelus.Count;

    public static QdqPlan Of(GraphProto graph, IReadOnlySet<string> weighted, IReadOnlySet<string> quantizedOperators)
    {
        var plan = new QdqPlan(graph);
        var types = graph.Input.Concat(graph.ValueInfo).Concat(graph.Output)
            .Where(v => v.Type?.TensorType is not null)
            .GroupBy(v => v.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Type.TensorType.ElemType, StringComparer.Ordinal);
        var consumers = graph.Node.SelectMany(node => node.Input.Select(input => (input, node))).ToLookup(pair => pair.input, pair => pair.node, StringComparer.Ordinal);
        var outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        bool IsFloatActivation(string name) =>
            name.Length > 0 && !plan._initializers.ContainsKey(name) && types.GetValueOrDefault(name, (int)TensorProto.Types.DataType.Float) == (int)TensorProto.Types.DataType.Float;

        foreach (var node in graph.Node.Where(n => n.Domain is "" or "ai.onnx"))
        {
            if (weighted.Contains(node.OpType))
            {
                if (plan.WeightAxis(node) is { } axis)
                {
                    plan._weightAxis[node] = axis;
                    plan._quantized.Add(node);
                }
            }
            else if (quantizedOperators.Contains(node.OpType))
            {
                plan._quantized.Add(node);
            }
        }

        // A Relu whose input only it reads, made by a quantized operator, folds into that operator's output range.
        foreach (var relu in graph.Node.Where(n => n.OpType == "Relu" && n.Domain is "" or "ai.onnx"))
        {
            var input = relu.Input[0];
            var producer = graph.Node.FirstOrDefault(n => n.Output.Contains(input));
            if (producer is not null && plan._quantized.Contains(producer) && producer.OpType is "Conv" or "MatMul" or "Gemm" or "Add"
                && consumers[input].Count() == 1 && !outputs.Contains(input))
            {
                plan._foldedInto[input] = relu.Output[0];
                plan._foldedRelus.Add(relu);
            }
        }

        foreach (var node in plan._quantized)
        {
            var inputs = plan._weightAxis.ContainsKey(node) ? node.Input.Take(1) : node.Input;
            plan._activations.UnionWith(inputs.Where(IsFloatActivation));
            foreach (var output in node.Output.Select(plan.FinalName))
            {
                if (!outputs.Contains(output) && consumers[output].Any(plan._quantized.Contains) && IsFloatActivation(output))
                {
                    plan._activations.Add(output);
                }
            }
        }

        return plan;
    }

    /// <summary>Rewrites the graph with the calibrated ranges and returns the names of the nodes that run quantized.</summary>
    public List<string> Apply(GraphProto graph, IReadOnlyDictionary<string, (float Min, float Max)> ranges)
    {
        var scales = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var name in _activations)
        {
            var (min, max) = ranges[name];
            var (scale, zeroPoint) = UInt8Range(min, max);
            scales[name] = scale;
            graph.Initializer.Add(GraphEdits.Tensor(name + "_scale", TensorProto.Types.DataType.Float, [], MemoryMarshal.AsBytes([scale])));
            graph.Initializer.Add(GraphEdits.Tensor(name + "_zero_point", TensorProto.Types.DataType.Uint8, [], [zeroPoint]));
        }

        var nodes = new List<NodeProto>();
        foreach (var input in graph.Input.Where(i => _activations.Contains(i.Name)))
        {
            AddPair(nodes, input.Name);
        }

        foreach (var node in graph.Node)
        {
            if (_foldedRelus.Contains(node))
            {
                continue;
            }

            for (var i = 0; i < node.Output.Count; i++)
            {
                node.Output[i] = FinalName(node.Output[i]);
            }

            if (_quantized.Contains(node))
            {
                Rewire(graph, nodes, node, scales);
            }

            nodes.Add(node);
            foreach (var output in node.Output.Where(_activations.Contains))
            {
                AddPair(nodes, output);
            }
        }

        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        return [.. _quantized.Select(node => node.Name)];
    }

    private string FinalName(string output) => _foldedInto.GetValueOrDefault(output, output);

    /// <summary>The axis of one scale per output channel, or null (with the reason recorded) when the node stays fp32.</summary>
    private int? WeightAxis(NodeProto node)
    {
        string? reason = null;
        var weights = node.Input.Count > 1 ? _initializers.GetValueOrDefault(node.Input[1]) : null;
        if (weights is null || weights.DataType != (int)TensorProto.Types.DataType.Float)
        {
            reason = "its weights are not a constant fp32 tensor";
        }
        else if (node.OpType == "Conv" && weights.Dims.Count >= 3)
        {
            return 0;
        }
        else if (node.OpType == "MatMul" && weights.Dims.Count == 2)
        {
            return 1;
        }
        else if (node.OpType == "Gemm" && weights.Dims.Count == 2)
        {
            var attribute = (string name, float fallback) => node.Attribute.FirstOrDefault(a => a.Name == name) is { } found ? (found.Type == AttributeProto.Types.AttributeType.Float ? found.F : found.I) : fallback;
            if (attribute("transA", 0) == 0 && attribute("alpha", 1) == 1 && attribute("beta", 1) == 1)
            {
                return attribute("transB", 0) == 0 ? 1 : 0;
            }

            reason = "a Gemm with a transposed A, or alpha or beta other than 1";
        }

        Skipped.Add((node.Name, reason ?? $"its weights have rank {weights!.Dims.Count}"));
        return null;
    }

    /// <summary>Points a quantized node at the dequantized activations, weights and bias.</summary>
    private void Rewire(GraphProto graph, List<NodeProto> nodes, NodeProto node, Dictionary<string, float> scales)
    {
        for (var i = 0; i < node.Input.Count; i++)
        {
            if (_activations.Contains(node.Input[i]) && (i == 0 || !_weightAxis.ContainsKey(node)))
            {
                node.Input[i] = node.Input[i] + "_dequantized";
            }
        }

        if (!_weightAxis.TryGetValue(node, out var axis))
        {
            return;
        }

        var weights = _initializers[node.Input[1]];
        var (values, weightScales) = Int8PerChannel(GraphEdits.Floats(weights), [.. weights.Dims], axis);
        var name = $"{node.Name}_{weights.Name}";
        graph.Initializer.Add(GraphEdits.Tensor(name + "_quantized", TensorProto.Types.DataType.Int8, [.. weights.Dims], MemoryMarshal.AsBytes(values.AsSpan())));
        graph.Initializer.Add(GraphEdits.Tensor(name + "_scale", TensorProto.Types.DataType.Float, [weightScales.Length], MemoryMarshal.AsBytes(weightScales.AsSpan())));
        graph.Initializer.Add(GraphEdits.Tensor(name + "_zero_point", TensorProto.Types.DataType.Int8, [weightScales.Length], new byte[weightScales.Length]));
        nodes.Add(Dequantize(name, axis));
        node.Input[1] = name + "_dequantized";

        // An int32 bias at the activation scale times each channel's weight scale lets the integer kernel add it.
        var activation = node.Input[0].EndsWith("_dequantized", StringComparison.Ordinal) ? node.Input[0][..^"_dequantized".Length] : null;
        if (node.Input.Count > 2 && activation is not null && _initializers.GetValueOrDefault(node.Input[2]) is { } bias
            && bias.DataType == (int)TensorProto.Types.DataType.Float && bias.Dims.Count == 1 && bias.Dims[0] == weightScales.Length)
        {
            var biasScales = weightScales.Select(s => s * scales[activation]).ToArray();
            var quantizedBias = GraphEdits.Floats(bias).Select((b, c) => (int)Math.Clamp(Math.Round(b / biasScales[c]), int.MinValue, int.MaxValue)).ToArray();
            var biasName = $"{node.Name}_{bias.Name}";
            graph.Initializer.Add(GraphEdits.Tensor(biasName + "_quantized", TensorProto.Types.DataType.Int32, [biasScales.Length], MemoryMarshal.AsBytes(quantizedBias.AsSpan())));
            graph.Initializer.Add(GraphEdits.Tensor(biasName + "_scale", TensorProto.Types.DataType.Float, [biasScales.Length], MemoryMarshal.AsBytes(biasScales.AsSpan())));
            graph.Initializer.Add(GraphEdits.Tensor(biasName + "_zero_point", TensorProto.Types.DataType.Int32, [biasScales.Length], new byte[biasScales.Length * sizeof(int)]));
            nodes.Add(Dequantize(biasName, axis: 0));
            node.Input[2] = biasName + "_dequantized";
        }
    }

    private static void AddPair(List<NodeProto> nodes, string tensor)
    {
        var quantize = new NodeProto { Name = tensor + "_QuantizeLinear", OpType = "QuantizeLinear" };
        quantize.Input.AddRange([tensor, tensor + "_scale", tensor + "_zero_point"]);
        quantize.Output.Add(tensor + "_quantized");
        nodes.Add(quantize);
        nodes.Add(Dequantize(tensor, axis: null));
    }

    private static NodeProto Dequantize(string tensor, int? axis)
    {
        var node = new NodeProto { Name = tensor + "_DequantizeLinear", OpType = "DequantizeLinear" };
        node.Input.AddRange([tensor + "_quantized", tensor + "_scale", tensor + "_zero_point"]);
        node.Output.Add(tensor + "_dequantized");
        if (axis is { } value)
        {
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = value });
        }

        return node;
    }

    /// <summary>The uint8 scale and zero point of a range widened to hold zero (so that zero, padding's value, is exact).</summary>
    internal static (float Scale, byte ZeroPoint) UInt8Range(float min, float max)
    {
        min = Math.Min(min, 0);
        max = Math.Max(max, 0);
        var scale = (max - min) / 255f;
        if (!(scale > 0))
        {
            return (1f, 0);
        }

        return (scale, (byte)Math.Clamp(Math.Round(-min / scale), 0, 255));
    }

    /// <summary>Symmetric int8 weights with one scale per index of <paramref name="axis"/>.</summary>
    internal static (sbyte[] Values, float[] Scales) Int8PerChannel(float[] weights, long[] dims, int axis)
    {
        var channels = (int)dims[axis];
        var stride = (int)dims.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
        var scales = new float[channels];
        for (var i = 0; i < weights.Length; i++)
        {
            var channel = i / stride % channels;
            scales[channel] = Math.Max(scales[channel], Math.Abs(weights[i]));
        }

        for (var c = 0; c < channels; c++)
        {
            scales[c] = scales[c] > 0 ? scales[c] / 127f : 1f;
        }

        var values = new sbyte[weights.Length];
        for (var i = 0; i < weights.Length; i++)
        {
            values[i] = (sbyte)Math.Clamp(Math.Round(weights[i] / scales[i / stride % channels]), -127, 127);
        }

        return (values, scales);
    }
}
