using System.Globalization;
using System.Text.Json;

namespace Turbine.Onnx.Trees;

/// <summary>
/// Reads XGBoost's JSON model (<c>Booster.save_model("xgboost.json")</c>, version 1.0 and later): the learner's base
/// score, class count and objective, and each tree's parallel arrays (<c>left_children</c>, <c>right_children</c>,
/// <c>split_indices</c>, <c>split_conditions</c>, <c>default_left</c>; a leaf has no children and its value in
/// <c>split_conditions</c>). A row goes left when its feature is below the condition, or missing and
/// <c>default_left</c>. The base score is a prediction, turned into a margin by the objective's inverse link.
/// </summary>
public static class XgboostJson
{
    public static TreeEnsemble Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            var learner = document.RootElement.GetProperty("learner");
            var parameters = learner.GetProperty("learner_model_param");
            var classes = Math.Max(1, IntText(parameters, "num_class"));
            var objective = learner.GetProperty("objective").GetProperty("name").GetString() ?? string.Empty;
            var link = Link(objective, classes);
            var baseScore = BaseScore(parameters.GetProperty("base_score").GetString() ?? "0.5");
            var margin = link switch
            {
                TreeLink.Sigmoid => Math.Log(baseScore / (1 - baseScore)),
                TreeLink.Exp => Math.Log(baseScore),
                _ => baseScore,
            };
            var booster = learner.GetProperty("gradient_booster");
            if (booster.GetProperty("name").GetString() != "gbtree")
            {
                throw new InferenceException($"the XGBoost booster '{booster.GetProperty("name").GetString()}' is not supported; only gbtree (dart and gblinear are not)");
            }

            var model = booster.GetProperty("model");
            var info = model.GetProperty("tree_info").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var trees = model.GetProperty("trees").EnumerateArray().Select((tree, i) => Tree(tree, i < info.Length ? info[i] : 0, i, classes)).ToList();
            var features = IntText(parameters, "num_feature");
            var used = trees.SelectMany(t => t.Nodes).Where(n => !n.IsLeaf).Select(n => n.Feature + 1).DefaultIfEmpty(0).Max();
            return new TreeEnsemble(Math.Max(features, used), classes, link, [.. Enumerable.Repeat(margin, classes)], trees);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InferenceException($"not an XGBoost JSON model: {e.Message}");
        }
    }

    private static TreeLink Link(string objective, int classes) => objective switch
    {
        "reg:squarederror" or "reg:linear" or "reg:absoluteerror" or "reg:pseudohubererror" or "reg:squaredlogerror" or "binary:logitraw" or "rank:pairwise" or "rank:ndcg" or "rank:map" => TreeLink.Identity,
        "binary:logistic" or "reg:logistic" => TreeLink.Sigmoid,
        "multi:softprob" or "multi:softmax" when classes > 1 => TreeLink.Softmax,
        "count:poisson" or "reg:gamma" or "reg:tweedie" => TreeLink.Exp,
        _ => throw new InferenceException($"the XGBoost objective '{objective}' is not supported"),
    };

    /// <summary>"5E-1", or "[5E-1]" as XGBoost 2 writes a one-target base score.</summary>
    private static double BaseScore(string text) =>
        double.Parse(text.Trim('[', ']').Split(',')[0], NumberStyles.Float, CultureInfo.InvariantCulture);

    private static int IntText(JsonElement parameters, string name) =>
        parameters.TryGetProperty(name, out var value) ? int.Parse(value.GetString() ?? "0", CultureInfo.InvariantCulture) : 0;

    private static DecisionTree Tree(JsonElement tree, int target, int index, int classes)
    {
        var left = Ints(tree, "left_children");
        var right = Ints(tree, "right_children");
        var features = Ints(tree, "split_indices");
        var conditions = tree.GetProperty("split_conditions").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var defaults = Ints(tree, "default_left");
        var count = left.Length;
        if (new[] { right.Length, features.Length, conditions.Length, defaults.Length }.Any(n => n != count) || count == 0)
        {
            throw new InferenceException($"tree {index}: its node arrays differ in length");
        }

        if (tree.TryGetProperty("split_type", out var types) && types.EnumerateArray().Any(t => t.GetInt32() != 0))
        {
            throw new InferenceException($"tree {index} has categorical splits, which are not supported: encode the categories as numbers before training");
        }

        if (target < 0 || target >= classes)
        {
            throw new InferenceException($"tree {index} adds to class {target} of {classes}");
        }

        var nodes = new TreeNode[count];
        for (var n = 0; n < count; n++)
        {
            if (left[n] == -1)
            {
                nodes[n] = TreeNode.Leaf(conditions[n]);
                continue;
            }

            if (left[n] <= n || left[n] >= count || right[n] <= n || right[n] >= count || features[n] < 0)
            {
                throw new InferenceException($"tree {index}: node {n} points outside the tree");
            }

            nodes[n] = new TreeNode(false, 0, features[n], conditions[n], SplitComparison.Less, left[n], right[n], defaults[n] != 0);
        }

        return new DecisionTree(target, nodes);
    }

    private static int[] Ints(JsonElement tree, string name) => [.. tree.GetProperty(name).EnumerateArray().Select(e => e.GetInt32())];
}
