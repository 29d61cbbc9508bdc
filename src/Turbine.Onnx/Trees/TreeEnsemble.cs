namespace Turbine.Onnx.Trees;

/// <summary>
/// A gradient-boosted (or random) forest as LightGBM and XGBoost save it, in one form: trees whose leaves add to one of
/// <see cref="Targets"/> margins, a base score per margin, and the link from margins to predictions.
/// </summary>
/// <param name="Features">Input width: the largest feature index used, plus one, or the declared count.</param>
/// <param name="Targets">Margins: 1 for regression and binary classification, the class count for multiclass.</param>
/// <param name="Link">How margins become predictions.</param>
/// <param name="BaseScores">Added to each margin before the link.</param>
/// <param name="Trees">The trees, each adding to one margin.</param>
public sealed record TreeEnsemble(int Features, int Targets, TreeLink Link, double[] BaseScores, IReadOnlyList<DecisionTree> Trees)
{
    /// <summary>Whether the predictions are class probabilities (the output then has a column per class, two for binary).</summary>
    public bool IsClassifier => Link is TreeLink.Sigmoid or TreeLink.Softmax;

    /// <summary>Columns of the output: 2 for a binary classifier (1 - p, p), else one per margin.</summary>
    public int OutputWidth => Link == TreeLink.Sigmoid && Targets == 1 ? 2 : Targets;
}

/// <summary>How margins become predictions.</summary>
public enum TreeLink
{
    Identity,
    Sigmoid,
    Softmax,
    Exp,
}

/// <summary>One tree; its leaves add to margin <paramref name="Target"/>.</summary>
public sealed record DecisionTree(int Target, IReadOnlyList<TreeNode> Nodes);

/// <summary>
/// A node: a leaf with its value, or a split sending a row left when its feature compares true against the threshold
/// (<c>&lt;=</c> or <c>&lt;</c> by <see cref="Comparison"/>), with a missing value (NaN) going left when
/// <see cref="MissingGoesLeft"/>.
/// </summary>
public sealed record TreeNode(bool IsLeaf, double Value, int Feature = 0, double Threshold = 0, SplitComparison Comparison = SplitComparison.LessOrEqual, int Left = -1, int Right = -1, bool MissingGoesLeft = false)
{
    public static TreeNode Leaf(double value) => new(true, value);
}

/// <summary>The comparison of a split: LightGBM's <c>&lt;=</c>, XGBoost's <c>&lt;</c>.</summary>
public enum SplitComparison
{
    LessOrEqual,
    Less,
}
