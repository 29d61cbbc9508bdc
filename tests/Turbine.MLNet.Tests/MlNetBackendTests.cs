using Microsoft.ML;
using Microsoft.ML.Data;
using Turbine.Tests;

namespace Turbine.MLNet.Tests;

/// <summary>
/// ML.NET pipelines trained here, saved as ML.NET saves them, served by the backend: its outputs must equal what
/// ML.NET's own prediction engine gives for the same rows.
/// </summary>
public sealed class MlNetBackendTests : IDisposable
{
    private readonly TestRepository _repository = new();
    private readonly MlNetBackend _backend = new();

    public void Dispose() => _repository.Dispose();

    public sealed class Applicant
    {
        [VectorType(3)]
        public float[] Features { get; set; } = [];

        public string Region { get; set; } = string.Empty;

        public bool Label { get; set; }
    }

    public sealed class Decision
    {
        public bool PredictedLabel { get; set; }

        public float Probability { get; set; }

        public float Score { get; set; }
    }

    public sealed class Flower
    {
        [VectorType(2)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = string.Empty;
    }

    public sealed class Species
    {
        public string PredictedLabel { get; set; } = string.Empty;

        public float[] Score { get; set; } = [];
    }

    private static readonly string[] Regions = ["north", "south", "east"];

    private static List<Applicant> Applicants(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var features = new[] { (float)random.NextDouble(), (float)random.NextDouble(), (float)random.NextDouble() };
            var region = Regions[i % 3];
            return new Applicant { Features = features, Region = region, Label = features[0] + features[1] + (region == "south" ? 0.4f : 0) > 1.1f };
        })];
    }

    private string Save(string name, ITransformer model, DataViewSchema schema, MLContext context)
    {
        var folder = Path.Combine(_repository.Root, name, "1");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "model.zip");
        context.Model.Save(model, schema, path);
        return path;
    }

    private (List<Tensor> Outputs, ModelSignature Signature) Serve(string path, params Tensor[] inputs)
    {
        var signature = _backend.Inspect(path);
        var config = new ModelConfig
        {
            Name = "mlnet",
            MaxBatchSize = 0,
            Inputs = [.. signature.Inputs.Select(i => new TensorConfig(i.Name, i.DataType, i.Shape))],
            Outputs = [.. signature.Outputs.Select(o => new TensorConfig(o.Name, o.DataType, o.Shape))],
        };
        using var instance = _backend.CreateInstance(path, config);
        var results = new List<Tensor>();
        Assert.Null(instance.Run(inputs, config.Outputs, results));
        foreach (var input in inputs)
        {
            input.Dispose();
        }

        return (results, signature);
    }

    [Fact]
    public void A_binary_pipeline_with_text_and_vector_inputs_answers_as_its_prediction_engine()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(Applicants(200, seed: 1));
        var pipeline = context.Transforms.Categorical.OneHotEncoding("RegionCode", "Region")
            .Append(context.Transforms.Concatenate("All", "Features", "RegionCode"))
            .Append(context.BinaryClassification.Trainers.SdcaLogisticRegression(featureColumnName: "All"));
        var model = pipeline.Fit(data);
        var path = Save("credit", model, data.Schema, context);
        var rows = Applicants(6, seed: 2);
        var engine = context.Model.CreatePredictionEngine<Applicant, Decision>(model);

        var (outputs, signature) = Serve(path,
            Tensor.FromArray("Features", [rows.Count, 3], rows.SelectMany(r => r.Features).ToArray().AsSpan()),
            Tensor.FromStrings("Region", [rows.Count, 1], [.. rows.Select(r => r.Region)]));

        Assert.Equal([-1L, 3L], signature.Inputs.Single(i => i.Name == "Features").Shape);
        Assert.Equal(DataType.Bytes, signature.Inputs.Single(i => i.Name == "Region").DataType);
        Assert.DoesNotContain(signature.Inputs, i => i.Name == "Label"); // scoring never reads the label: no input
        var probability = outputs.Single(o => o.Name == "Probability").ToArray<float>();
        var predicted = outputs.Single(o => o.Name == "PredictedLabel").ToArray<bool>();
        for (var r = 0; r < rows.Count; r++)
        {
            var expected = engine.Predict(rows[r]);
            Assert.Equal(expected.Probability, probability[r], 5);
            Assert.Equal(expected.PredictedLabel, predicted[r]);
        }

        foreach (var output in outputs)
        {
            output.Dispose();
        }
    }

    [Fact]
    public void A_multiclass_pipeline_gives_its_predicted_class_by_name_and_a_score_per_class()
    {
        var context = new MLContext(seed: 1);
        var random = new Random(3);
        string[] names = ["setosa", "versicolor", "virginica"];
        var flowers = Enumerable.Range(0, 150).Select(i => new Flower
        {
            Features = [(i % 3) + ((float)random.NextDouble() * 0.8f), (float)random.NextDouble()],
            Label = names[i % 3],
        }).ToList();
        var data = context.Data.LoadFromEnumerable(flowers);
        var pipeline = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.MulticlassClassification.Trainers.SdcaMaximumEntropy())
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(data);
        var path = Save("iris", model, data.Schema, context);
        var engine = context.Model.CreatePredictionEngine<Flower, Species>(model);
        float[] rows = [0.1f, 0.5f, 1.4f, 0.2f, 2.5f, 0.9f];

        var (outputs, signature) = Serve(path, Tensor.FromArray("Features", [3, 2], rows.AsSpan()), Tensor.FromStrings("Label", [3, 1], ["", "", ""]));

        // Its first step maps the label to a key, so the pipeline reads a label even to score: it stays an input.
        Assert.Contains(signature.Inputs, i => i.Name == "Label");

        Assert.Equal([-1L, 3L], signature.Outputs.Single(o => o.Name == "Score").Shape);
        var labels = outputs.Single(o => o.Name == "PredictedLabel").ToStrings();
        var scores = outputs.Single(o => o.Name == "Score").ToArray<float>();
        for (var r = 0; r < 3; r++)
        {
            var expected = engine.Predict(new Flower { Features = [rows[2 * r], rows[(2 * r) + 1]] });
            Assert.Equal(expected.PredictedLabel, labels[r]);
            Assert.Equal(expected.Score, scores.AsSpan(r * 3, 3).ToArray());
        }

        Assert.Equal(["setosa", "versicolor", "virginica"], labels);
        foreach (var output in outputs)
        {
            output.Dispose();
        }
    }

    [Fact]
    public void A_file_that_is_not_an_ml_net_model_is_refused_with_the_reason_and_a_folder_with_one_is_claimed()
    {
        var folder = Path.Combine(_repository.Root, "junk", "1");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "model.zip");
        File.WriteAllText(path, "not a zip");

        var error = Assert.Throws<InferenceException>(() => _backend.Inspect(path));

        Assert.StartsWith("ML.NET could not load the model", error.Message, StringComparison.Ordinal);
        Assert.True(_backend.Claims(Path.Combine(_repository.Root, "junk")));
    }
}
