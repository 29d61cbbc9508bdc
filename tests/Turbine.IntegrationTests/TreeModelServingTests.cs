using System.Text.Json;

namespace Turbine.IntegrationTests;

/// <summary>
/// Tree ensembles on a real server (the <c>fil</c> backend): a LightGBM folder with no configuration is recognised,
/// an XGBoost JSON model is served through its configuration, both over KServe v2 with batching, and a broken model
/// fails its own load while the server keeps serving.
/// </summary>
public sealed class TreeModelServingTests : IAsyncLifetime
{
    /// <summary>One split on feature 0 at 0.5 (LightGBM: "feature &lt;= threshold" goes left), leaves 1.5 and -2.5.</summary>
    private const string LightGbm = """
        tree
        version=v4
        num_class=1
        num_tree_per_iteration=1
        label_index=0
        max_feature_idx=1
        objective=regression
        feature_names=a b

        Tree=0
        num_leaves=2
        num_cat=0
        split_feature=0
        split_gain=1
        threshold=0.5
        decision_type=2
        left_child=-1
        right_child=-2
        leaf_value=1.5 -2.5
        is_linear=0
        shrinkage=1


        end of trees
        """;

    /// <summary>One tree, reg:squarederror, base score 0.25: x1 &lt; 3 → 1, else 2.</summary>
    private const string Xgboost = """
        {"learner": {"gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [
            {"left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [1, 0, 0], "split_conditions": [3, 1, 2], "default_left": [0, 0, 0]}]}},
          "learner_model_param": {"base_score": "2.5E-1", "num_class": "0", "num_feature": "2"},
          "objective": {"name": "reg:squarederror"}}}
        """;

    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        Write("lgbm/1/model.txt", LightGbm);
        Write("xgb/1/xgboost.json", Xgboost);
        Write("xgb/config.json", """{"backend": "fil", "default_model_filename": "xgboost.json", "max_batch_size": 8, "fil": {"model_type": "xgboost_json"}}""");
        Write("broken/config.json", """{"backend": "fil"}""");
        Write("broken/1/model.txt", "tree\nobjective=lambdaloss\n");
        await _server.StartAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_server.Folder.Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private async Task<float[]> InferAsync(string model, float[] rows)
    {
        var body = JsonSerializer.Serialize(new { inputs = new[] { new { name = "input__0", datatype = "FP32", shape = new[] { rows.Length / 2, 2 }, data = rows } } });
        using var response = await _server.SendAsync(HttpMethod.Post, $"/v2/models/{model}/infer", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        var output = JsonDocument.Parse(text).RootElement.GetProperty("outputs")[0];
        Assert.Equal("output__0", output.GetProperty("name").GetString());
        return [.. output.GetProperty("data").EnumerateArray().Select(v => v.GetSingle())];
    }

    [Fact]
    public async Task A_lightgbm_folder_without_configuration_serves_as_a_batched_tree_model()
    {
        var config = await _server.GetJsonAsync("/v2/models/lgbm/config");
        Assert.Equal("fil", config.GetProperty("backend").GetString());
        var metadata = await _server.GetJsonAsync("/v2/models/lgbm");
        Assert.Equal([-1L, 2L], metadata.GetProperty("inputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));

        var served = await InferAsync("lgbm", [0.2f, 9f, 0.5f, 0f, 0.51f, 0f]);
        Assert.Equal([1.5f, 1.5f, -2.5f], served);
    }

    [Fact]
    public async Task An_xgboost_model_serves_through_its_configuration()
    {
        var served = await InferAsync("xgb", [0f, 2.9f, 0f, 3f, 7f, 5f]); // a missing value cannot ride in JSON: the unit tests cover NaN
        Assert.Equal([1.25f, 2.25f, 2.25f], served);
    }

    [Fact]
    public async Task A_model_that_cannot_be_served_fails_alone_with_its_reason()
    {
        using var response = await _server.SendAsync(HttpMethod.Get, "/v2/models/broken/ready", null);
        Assert.NotEqual(System.Net.HttpStatusCode.OK, response.StatusCode);
        var index = await _server.SendAsync(HttpMethod.Post, "/v2/repository/index", "{}");
        var models = JsonDocument.Parse(await index.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
        var broken = models.Single(m => m.GetProperty("name").GetString() == "broken");
        Assert.Contains("objective 'lambdaloss' is not supported", broken.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var served = await InferAsync("lgbm", [0f, 0f]);
        Assert.Equal([1.5f], served);
    }
}
