using Google.Protobuf;
using Onnx;

namespace Turbine.Onnx.Trees;

/// <summary>
/// A <see cref="TreeEnsemble"/> as an ONNX-ML graph that ONNX Runtime runs: one <c>TreeEnsembleRegressor</c>
/// (<c>ai.onnx.ml</c> 3) summing every tree's leaf into its margin, thresholds, leaves and base scores as double tensors
/// (so a float input compares against LightGBM's double thresholds as LightGBM compares it), then the link: nothing,
/// <c>Sigmoid</c> (a binary classifier's output is <c>[1 - p, p]</c>), <c>Softmax</c> or <c>Exp</c>. Input
/// <c>input__0</c> [batch, features], output <c>output__0</c> [batch, columns], the names of Triton's FIL backend.
/// </summary>
public static class TreeEnsembleOnnx
{
    public const string InputName = "input__0";
    public const string OutputName = "output__0";
    private const string MlDomain = "ai.onnx.ml";

    public static byte[] Write(TreeEnsemble ensemble)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        var graph = new GraphProto { Name = "tree_ensemble" };
        graph.Input.Add(Value(InputName, ensemble.Features));
        graph.Output.Add(Value(OutputName, ensemble.OutputWidth));
        var margin = ensemble.Link == TreeLink.Identity ? OutputName : "margin";
        // ONNX Runtime compares at the input's precision: as doubles, a float feature meets LightGBM's double thresholds
        // as LightGBM's own double comparison does, and the leaves are summed in double.
        graph.Node.Add(Node("Cast", [InputName], ["wide"], Int("to", (long)TensorProto.Types.DataType.Double)));
        graph.Node.Add(Regressor(ensemble, margin));
        switch (ensemble.Link)
        {
            case TreeLink.Sigmoid when ensemble.Targets == 1:
                graph.Initializer.Add(new TensorProto { Name = "one", DataType = (int)TensorProto.Types.DataType.Float, FloatData = { 1f } });
                graph.Node.Add(Node("Sigmoid", [margin], ["p"]));
                graph.Node.Add(Node("Sub", ["one", "p"], ["q"]));
                graph.Node.Add(Node("Concat", ["q", "p"], [OutputName], Int("axis", 1)));
                break;
            case TreeLink.Sigmoid:
                graph.Node.Add(Node("Sigmoid", [margin], [OutputName]));
                break;
            case TreeLink.Softmax:
                graph.Node.Add(Node("Softmax", [margin], [OutputName], Int("axis", 1)));
                break;
            case TreeLink.Exp:
                graph.Node.Add(Node("Exp", [margin], [OutputName]));
                break;
        }

        var model = new ModelProto { IrVersion = 8, ProducerName = "turbine", ProducerVersion = "1", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = MlDomain, Version = 3 });
        return model.ToByteArray();
    }

    private static NodeProto Regressor(TreeEnsemble ensemble, string output)
    {
        var (treeIds, nodeIds, featureIds, modes, values, trueIds, falseIds, missingTrue) = (new List<long>(), new List<long>(), new List<long>(), new List<string>(), new List<double>(), new List<long>(), new List<long>(), new List<long>());
        var (targetTrees, targetNodes, targetIds, weights) = (new List<long>(), new List<long>(), new List<long>(), new List<double>());
        for (var t = 0; t < ensemble.Trees.Count; t++)
        {
            var tree = ensemble.Trees[t];
            for (var n = 0; n < tree.Nodes.Count; n++)
            {
                var node = tree.Nodes[n];
                treeIds.Add(t);
                nodeIds.Add(n);
                featureIds.Add(node.Feature);
                modes.Add(node.IsLeaf ? "LEAF" : node.Comparison == SplitComparison.Less ? "BRANCH_LT" : "BRANCH_LEQ");
                values.Add(node.IsLeaf ? 0 : node.Threshold);
                trueIds.Add(node.IsLeaf ? 0 : node.Left);
                falseIds.Add(node.IsLeaf ? 0 : node.Right);
                missingTrue.Add(node.MissingGoesLeft ? 1 : 0);
                if (node.IsLeaf)
                {
                    targetTrees.Add(t);
                    targetNodes.Add(n);
                    targetIds.Add(tree.Target);
                    weights.Add(node.Value);
                }
            }
        }

        return Node("TreeEnsembleRegressor", ["wide"], [output],
            Int("n_targets", ensemble.Targets), Text("aggregate_function", "SUM"), Text("post_transform", "NONE"),
            Ints("nodes_treeids", treeIds), Ints("nodes_nodeids", nodeIds), Ints("nodes_featureids", featureIds),
            Texts("nodes_modes", modes), Doubles("nodes_values_as_tensor", values),
            Ints("nodes_truenodeids", trueIds), Ints("nodes_falsenodeids", falseIds), Ints("nodes_missing_value_tracks_true", missingTrue),
            Ints("target_treeids", targetTrees), Ints("target_nodeids", targetNodes), Ints("target_ids", targetIds),
            Doubles("target_weights_as_tensor", weights), Doubles("base_values_as_tensor", ensemble.BaseScores))
            .InDomain(MlDomain);
    }

    private static NodeProto InDomain(this NodeProto node, string domain)
    {
        node.Domain = domain;
        return node;
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{outputs[0]}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static ValueInfoProto Value(string name, int width) => new()
    {
        Name = name,
        Type = new TypeProto
        {
            TensorType = new TypeProto.Types.Tensor
            {
                ElemType = (int)TensorProto.Types.DataType.Float,
                Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "batch" }, new TensorShapeProto.Types.Dimension { DimValue = width } } },
            },
        },
    };

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Text(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static AttributeProto Ints(string name, List<long> values) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    private static AttributeProto Texts(string name, List<string> values) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Strings, Strings = { values.Select(ByteString.CopyFromUtf8) } };

    private static AttributeProto Doubles(string name, IReadOnlyCollection<double> values) => new()
    {
        Name = name,
        Type = AttributeProto.Types.AttributeType.Tensor,
        T = new TensorProto { DataType = (int)TensorProto.Types.DataType.Double, Dims = { values.Count }, DoubleData = { values } },
    };
}
