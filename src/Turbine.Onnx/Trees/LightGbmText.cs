using System.Globalization;

namespace Turbine.Onnx.Trees;

/// <summary>
/// Reads LightGBM's text model (<c>Booster.save_model</c>, <c>model.txt</c>): the header's class count and objective,
/// then each <c>Tree=</c> block's splits and leaves. Children are node indexes, or <c>~leaf</c> (negative). A split's
/// <c>decision_type</c> holds its kind (bit 0: categorical), its default direction (bit 1: left) and what counts as
/// missing (bits 2-3: none, zero, NaN). Categorical and linear trees are refused with what to do instead.
/// </summary>
public static class LightGbmText
{
    private const double ZeroThreshold = 1e-35; // LightGBM's kZeroThreshold: |x| at or under it is zero

    public static TreeEnsemble Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        if (lines.Length == 0 || lines[0] != "tree")
        {
            throw new InferenceException("not a LightGBM text model: it must start with the line 'tree'");
        }

        var header = Fields(lines, 1, out var next);
        var classes = Int(header, "num_class", 1);
        var perIteration = Int(header, "num_tree_per_iteration", classes);
        var features = Int(header, "max_feature_idx", -1) + 1;
        var (link, scale) = Objective(header.GetValueOrDefault("objective", "regression"), classes);
        var averaged = header.ContainsKey("average_output");
        var trees = new List<DecisionTree>();
        for (var i = next; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("Tree=", StringComparison.Ordinal))
            {
                var fields = Fields(lines, i + 1, out i);
                trees.Add(Tree(fields, trees.Count % Math.Max(1, perIteration), trees.Count, scale));
            }
            else if (lines[i] == "end of trees")
            {
                break;
            }
        }

        if (trees.Count == 0)
        {
            throw new InferenceException("the LightGBM model holds no tree");
        }

        if (averaged)
        {
            // Random-forest mode: the prediction is the mean of each class's trees, not their sum.
            var iterations = trees.Count / Math.Max(1, perIteration);
            trees = [.. trees.Select(t => t with { Nodes = [.. t.Nodes.Select(n => n.IsLeaf ? n with { Value = n.Value / iterations } : n)] })];
        }

        var used = trees.SelectMany(t => t.Nodes).Where(n => !n.IsLeaf).Select(n => n.Feature + 1).DefaultIfEmpty(0).Max();
        return new TreeEnsemble(Math.Max(features, used), Math.Max(1, perIteration), link, new double[Math.Max(1, perIteration)], trees);
    }

    /// <summary>The objective's link, and the factor its sigmoid applies to margins (folded into the leaves).</summary>
    private static (TreeLink Link, double Scale) Objective(string objective, int classes)
    {
        var parts = objective.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var sigmoid = parts.Skip(1).Select(p => p.Split(':')).Where(p => p.Length == 2 && p[0] == "sigmoid")
            .Select(p => double.Parse(p[1], CultureInfo.InvariantCulture)).DefaultIfEmpty(1).First();
        return parts[0] switch
        {
            "regression" or "regression_l1" or "huber" or "fair" or "quantile" or "mape" or "lambdarank" or "rank_xendcg" => (TreeLink.Identity, 1),
            "binary" => (TreeLink.Sigmoid, sigmoid),
            "cross_entropy" or "xentropy" => (TreeLink.Sigmoid, 1),
            "multiclass" or "softmax" when classes > 1 => (TreeLink.Softmax, 1),
            "poisson" or "gamma" or "tweedie" => (TreeLink.Exp, 1),
            _ => throw new InferenceException($"the LightGBM objective '{parts[0]}' is not supported; supported: regression (and its l1, huber, fair, quantile, mape forms), binary, cross_entropy, multiclass, poisson, gamma, tweedie, lambdarank"),
        };
    }

    private static DecisionTree Tree(Dictionary<string, string> fields, int target, int index, double scale)
    {
        var leaves = Doubles(fields, "leaf_value", index);
        if (Int(fields, "num_cat", 0) > 0)
        {
            throw new InferenceException($"tree {index} has categorical splits, which are not supported: encode the categories as numbers before training");
        }

        if (Int(fields, "is_linear", 0) != 0)
        {
            throw new InferenceException($"tree {index} is a linear tree (linear_tree=true), which is not supported");
        }

        var splits = Int(fields, "num_leaves", leaves.Length) - 1;
        if (splits == 0)
        {
            return new DecisionTree(target, [TreeNode.Leaf(leaves[0] * scale)]);
        }

        var feature = Doubles(fields, "split_feature", index);
        var threshold = Doubles(fields, "threshold", index);
        var decision = Doubles(fields, "decision_type", index);
        var left = Doubles(fields, "left_child", index);
        var right = Doubles(fields, "right_child", index);
        if (new[] { feature, threshold, decision, left, right }.Any(a => a.Length != splits) || leaves.Length != splits + 1)
        {
            throw new InferenceException($"tree {index}: its split and leaf lists disagree with num_leaves={splits + 1}");
        }

        // Splits keep their indexes; leaf k becomes node splits + k.
        var nodes = new TreeNode[splits + leaves.Length];
        for (var k = 0; k < leaves.Length; k++)
        {
            nodes[splits + k] = TreeNode.Leaf(leaves[k] * scale);
        }

        for (var s = 0; s < splits; s++)
        {
            var type = (int)decision[s];
            if ((type & 1) != 0)
            {
                throw new InferenceException($"tree {index} has categorical splits, which are not supported: encode the categories as numbers before training");
            }

            var defaultLeft = (type & 2) != 0;
            var missing = (type >> 2) & 3;
            var zeroGoesLeft = 0 <= threshold[s];
            // A NaN counts as 0 unless NaN is the missing value; a "zero as missing" split sends 0 (and NaN) the default
            // way, which one ONNX node can express only where that is also where 0 compares.
            var nanGoesLeft = missing switch
            {
                2 => defaultLeft,
                1 when defaultLeft != zeroGoesLeft && Math.Abs(threshold[s]) > ZeroThreshold =>
                    throw new InferenceException($"tree {index} treats zero as missing (zero_as_missing) with a default direction its threshold contradicts, which is not supported"),
                _ => zeroGoesLeft,
            };
            nodes[s] = new TreeNode(false, 0, Index(feature[s], index), threshold[s], SplitComparison.LessOrEqual,
                Child(left[s], s, splits, nodes.Length, index), Child(right[s], s, splits, nodes.Length, index), nanGoesLeft);
        }

        return new DecisionTree(target, nodes);
    }

    /// <summary>A child's node index; a split's child split comes after it (LightGBM grows them in order), so no file can make a cycle.</summary>
    private static int Child(double child, int parent, int splits, int count, int tree)
    {
        var node = child >= 0 ? (int)child : splits + ~(int)child;
        return node > parent && node < count ? node : throw new InferenceException($"tree {tree} points at a node it cannot have ({child} from {parent})");
    }

    private static int Index(double value, int tree) =>
        value is >= 0 and < int.MaxValue ? (int)value : throw new InferenceException($"tree {tree} splits on feature {value}");

    /// <summary>key=value lines from <paramref name="start"/> to the next blank line.</summary>
    private static Dictionary<string, string> Fields(string[] lines, int start, out int end)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (end = start; end < lines.Length && lines[end].Length > 0; end++)
        {
            var equals = lines[end].IndexOf('=', StringComparison.Ordinal);
            fields[equals < 0 ? lines[end] : lines[end][..equals]] = equals < 0 ? string.Empty : lines[end][(equals + 1)..];
        }

        return fields;
    }

    private static int Int(Dictionary<string, string> fields, string key, int fallback) =>
        !fields.TryGetValue(key, out var text) ? fallback
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new InferenceException($"LightGBM model: {key}='{text}' is not a whole number");

    private static double[] Doubles(Dictionary<string, string> fields, string key, int tree)
    {
        if (!fields.TryGetValue(key, out var text))
        {
            throw new InferenceException($"tree {tree} lacks {key}");
        }

        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                throw new InferenceException($"tree {tree}: {key} holds '{parts[i]}', not a finite number");
            }
        }

        return values;
    }
}
