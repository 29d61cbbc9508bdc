using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Turbine.IntegrationTests;

/// <summary>An ML.NET pipeline saved into a model folder with no configuration, served over KServe v2 REST with text and vector inputs.</summary>
public sealed class MlNetServingTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();
    private PredictionEngine<Review, Verdict>? _engine;

    public sealed class Review
    {
        public string Text { get; set; } = string.Empty;

        [VectorType(2)]
        public float[] Extra { get; set; } = [];

        public bool Label { get; set; }
    }

    public sealed class Verdict
    {
        public bool PredictedLabel { get; set; }

        public float Probability { get; set; }
    }

    private static readonly string[] Good = ["great value", "works great", "love it", "excellent and fast"];
    private static readonly string[] Bad = ["broke at once", "awful support", "waste of money", "slow and broken"];

    public async Task InitializeAsync()
    {
        var context = new MLContext(seed: 1);
        var reviews = Enumerable.Range(0, 80).Select(i => new Review
        {
            Text = i % 2 == 0 ? Good[i % 4] : Bad[i % 4],
            Extra = [i % 2, (i % 5) / 5f],
            Label = i % 2 == 0,
        }).ToList();
        var data = context.Data.LoadFromEnumerable(reviews);
        var model = context.Transforms.Text.FeaturizeText("Words", "Text")
            .Append(context.Transforms.Concatenate("All", "Words", "Extra"))
            .Append(context.BinaryClassification.Trainers.SdcaLogisticRegression(featureColumnName: "All"))
            .Fit(data);
        var folder = Path.Combine(_server.Folder.Root, "reviews", "1");
        Directory.CreateDirectory(folder);
        context.Model.Save(model, data.Schema, Path.Combine(folder, "model.zip"));
        _engine = context.Model.CreatePredictionEngine<Review, Verdict>(model);
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _engine?.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_saved_pipeline_answers_over_rest_as_ml_net_does()
    {
        using var index = await _server.SendAsync(HttpMethod.Post, "/v2/repository/index", "{}");
        var state = JsonDocument.Parse(await index.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "reviews");
        Assert.True(state.GetProperty("state").GetString() == "READY", state.GetRawText());
        var config = await _server.GetJsonAsync("/v2/models/reviews/config");
        Assert.Equal("mlnet", config.GetProperty("backend").GetString());
        string[] texts = ["love it, great value", "awful and broken"];
        var body = JsonSerializer.Serialize(new
        {
            inputs = new object[]
            {
                new { name = "Text", datatype = "BYTES", shape = new[] { 2, 1 }, data = texts },
                new { name = "Extra", datatype = "FP32", shape = new[] { 2, 2 }, data = new[] { 1f, 0.2f, 0f, 0.4f } },
            },
            outputs = new[] { new { name = "Probability" }, new { name = "PredictedLabel" } },
        });

        using var response = await _server.SendAsync(HttpMethod.Post, "/v2/models/reviews/infer", body);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.IsSuccessStatusCode, text);
        var outputs = JsonDocument.Parse(text).RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        var probabilities = outputs["Probability"].GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var labels = outputs["PredictedLabel"].GetProperty("data").EnumerateArray().Select(v => v.GetBoolean()).ToArray();
        float[][] extra = [[1f, 0.2f], [0f, 0.4f]];
        for (var r = 0; r < 2; r++)
        {
            var expected = _engine!.Predict(new Review { Text = texts[r], Extra = extra[r] });
            Assert.Equal(expected.Probability, probabilities[r], 5);
            Assert.Equal(expected.PredictedLabel, labels[r]);
        }

        Assert.Equal([true, false], labels);
    }
}
