using Turbine.Onnx.Trees;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>
/// Tree ensembles served through ONNX Runtime (the <c>fil</c> backend): LightGBM models trained here by LightGBM
/// itself must predict what LightGBM predicts, NaNs included; XGBoost JSON (no XGBoost package serves .NET here) is
/// checked against predictions worked out by hand from XGBoost's documented semantics.
/// </summary>
public sealed class TreeBackendTests : IDisposable
{
    private const int Columns = 4;
    private readonly TestRepository _repository = new();
    private readonly TreeBackend _backend = new();

    public void Dispose() => _repository.Dispose();

    /// <summary>Rows of four features in [0, 1), every 7th with a missing (NaN) feature.</summary>
    private static double[] Rows(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new double[count * Columns];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = i % (7 * Columns) == 5 ? double.NaN : Math.Round(random.NextDouble(), 3);
        }

        return rows;
    }

    private static float Feature(double[] rows, int row, int column) => (float)(double.IsNaN(rows[(row * Columns) + column]) ? 0 : rows[(row * Columns) + column]);

    private string Folder(string name, string file = "model.txt")
    {
        var folder = Path.Combine(_repository.Root, name, "1");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, file);
    }

    /// <summary>Runs the served model over the rows (as float32, as clients send them).</summary>
    private float[] Serve(string path, double[] rows, ModelConfig? configured = null)
    {
        var signature = _backend.Inspect(path);
        var config = configured ?? new ModelConfig
        {
            Name = "trees",
            MaxBatchSize = 0,
            Inputs = signature.Inputs.Select(i => new TensorConfig(i.Name, i.DataType, i.Shape)).ToList(),
            Outputs = signature.Outputs.Select(o => new TensorConfig(o.Name, o.DataType, o.Shape)).ToList(),
        };
        using var instance = _backend.CreateInstance(path, config);
        using var input = Tensor.FromArray("input__0", [rows.Length / Columns, Columns], rows.Select(v => (float)v).ToArray().AsSpan());
        var results = new List<Tensor>();
        Assert.Null(instance.Run([input], config.Outputs, results));
        using var output = Assert.Single(results);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(output.Data.Span).ToArray();
    }

    public static TheoryData<string, string, int> Objectives() => new()
    {
        { "regression", "objective=regression", 1 },
        { "binary", "objective=binary", 2 },
        { "multiclass", "objective=multiclass num_class=3", 3 },
        { "poisson", "objective=poisson", 1 },
    };

    [Theory]
    [MemberData(nameof(Objectives))]
    public void A_lightgbm_model_predicts_what_lightgbm_predicts(string name, string objective, int width)
    {
        var train = Rows(300, seed: 1);
        var labels = Enumerable.Range(0, 300).Select(r => name switch
        {
            "binary" => Feature(train, r, 0) + Feature(train, r, 1) > 1 ? 1f : 0f,
            "multiclass" => (float)Math.Min(2, (int)(Feature(train, r, 2) * 3)),
            "poisson" => (float)Math.Round(3 * Feature(train, r, 3)),
            _ => (3 * Feature(train, r, 0)) - (2 * Feature(train, r, 1)) + Feature(train, r, 3),
        }).ToArray();
        var path = Folder(name);
        using var booster = LightGbmNative.Train(train, Columns, labels, $"{objective} num_leaves=8 min_data_in_leaf=5 learning_rate=0.3 verbose=-1 num_threads=1 deterministic=true", iterations: 15, path);

        var test = Rows(50, seed: 2);
        var expected = booster.Predict(test, Columns, name == "binary" ? 1 : width);
        if (name == "binary")
        {
            expected = [.. expected.SelectMany(p => new[] { 1 - p, p })]; // served as [1 - p, p], as Triton's FIL serves probabilities
        }

        var served = Serve(path, test);

        Assert.Equal([-1L, width], _backend.Inspect(path).Outputs[0].Shape);
        Assert.Equal(expected.Length, served.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - served[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"value {i}: LightGBM {expected[i]}, served {served[i]}");
        }
    }

    /// <summary>Two trees (XGBoost's layout: nodes breadth-first, a leaf's value in split_conditions), binary:logistic, base score 0.5.</summary>
    private const string Xgboost = """
        {"learner": {
          "attributes": {}, "feature_names": [], "feature_types": [],
          "gradient_booster": {"name": "gbtree", "model": {
            "gbtree_model_param": {"num_trees": "2", "num_parallel_tree": "1"},
            "tree_info": [0, 0],
            "trees": [
              {"id": 0, "left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [0, 0, 0],
               "split_conditions": [0.5, -0.4, 0.6], "default_left": [1, 0, 0], "split_type": [0, 0, 0], "base_weights": [0, -0.4, 0.6],
               "tree_param": {"num_feature": "4", "num_nodes": "3"}},
              {"id": 1, "left_children": [1, 3, -1, -1, -1], "right_children": [2, 4, -1, -1, -1], "split_indices": [2, 1, 0, 0, 0],
               "split_conditions": [0.25, 0.75, 0.3, -0.1, 0.2], "default_left": [0, 1, 0, 0, 0], "split_type": [0, 0, 0, 0, 0], "base_weights": [0, 0, 0.3, -0.1, 0.2],
               "tree_param": {"num_feature": "4", "num_nodes": "5"}}
            ]}},
          "learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "4", "num_target": "1"},
          "objective": {"name": "binary:logistic", "reg_loss_param": {"scale_pos_weight": "1"}}
        }, "version": [2, 0, 3]}
        """;

    [Fact]
    public void An_xgboost_json_model_predicts_as_xgboost_defines_it()
    {
        var path = Folder("xgb", "xgboost.json");
        File.WriteAllText(path, Xgboost);
        double[] rows =
        [
            0.2, 0.9, 0.1, 0,        // tree 0: 0.2 < 0.5 → -0.4; tree 1: 0.1 < 0.25 → x1 0.9 ≥ 0.75 → 0.2
            0.5, 0.0, 0.9, 0,        // tree 0: 0.5 is not < 0.5 → 0.6; tree 1: 0.9 ≥ 0.25 → 0.3
            double.NaN, double.NaN, 0.0, 0, // tree 0: missing → left, -0.4; tree 1: 0 < 0.25 → missing x1 → left, -0.1
        ];
        double[] margins = [-0.4 + 0.2, 0.6 + 0.3, -0.4 - 0.1]; // base score 0.5 is margin 0

        var served = Serve(path, rows);

        for (var r = 0; r < 3; r++)
        {
            var p = 1 / (1 + Math.Exp(-margins[r]));
            Assert.Equal(1 - p, served[2 * r], 1e-6);
            Assert.Equal(p, served[(2 * r) + 1], 1e-6);
        }
    }

    [Fact]
    public void A_folder_holding_a_lightgbm_model_is_claimed_and_an_onnx_one_is_not()
    {
        var path = Folder("claimed");
        File.WriteAllText(path, "tree\nversion=v4\n");
        File.WriteAllText(Folder("other", "model.onnx"), "onnx");

        Assert.True(_backend.Claims(Path.Combine(_repository.Root, "claimed")));
        Assert.False(_backend.Claims(Path.Combine(_repository.Root, "other")));
    }

    public static TheoryData<string, string> Refused() => new()
    {
        { "not a model", "not a LightGBM text model" },
        { "tree\nobjective=lambdaloss\n\nTree=0\nnum_leaves=1\nleaf_value=1\n\nend of trees\n", "objective 'lambdaloss' is not supported" },
        { "tree\nobjective=regression\n\nTree=0\nnum_leaves=2\nnum_cat=1\nsplit_feature=0\nthreshold=0\ndecision_type=1\nleft_child=-1\nright_child=-2\nleaf_value=1 2\n\nend of trees\n", "categorical splits" },
        { "tree\nobjective=regression\n\nTree=0\nnum_leaves=3\nsplit_feature=0 1\nthreshold=0.5 0.5\ndecision_type=2 2\nleft_child=1 0\nright_child=-1 -2\nleaf_value=1 2 3\n\nend of trees\n", "points at a node it cannot have" },
        { "tree\nobjective=regression\n\nTree=0\nnum_leaves=2\nsplit_feature=0\nthreshold=nan\ndecision_type=2\nleft_child=-1\nright_child=-2\nleaf_value=1 2\n\nend of trees\n", "not a finite number" },
        { "{\"learner\": {}}", "not an XGBoost JSON model" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_model_the_backend_cannot_serve_is_refused_with_the_reason(string text, string reason)
    {
        var path = Folder("refused");
        File.WriteAllText(path, text);

        var error = Assert.Throws<InferenceException>(() => _backend.Inspect(path));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
