using System.Text;
using System.Text.Json;
using Turbine.Traffic.Pipelines;

namespace Turbine.Traffic.Tests;

/// <summary>Pipeline JSON, graph checks and the aggregations, without a server.</summary>
public sealed class PipelineDefinitionTests
{
    private const string Full = """
        {
          // comments are allowed, as in config.json
          "steps": [
            { "name": "pick", "switch": { "tensor": "lang", "cases": { "en": { "model": "en", "version": 2 } }, "default": { "model": "any", "version": "stable" } },
              "input_map": { "text": "text" }, "output_map": { "emb": "emb" } },
            { "name": "cls", "cascade": { "stages": [ { "model": "small", "threshold": 0.8 }, { "model": "large" } ], "confidence": "probs" },
              "input_map": { "x": "emb" }, "output_map": { "probs": "p1" } },
            { "name": "other", "model": "other", "input_map": { "x": "emb" }, "output_map": { "probs": "p2" } },
            { "name": "avg", "aggregate": "average", "inputs": ["p1", "p2"], "output": "probs" },
          ],
        }
        """;

    [Fact]
    public void A_full_pipeline_reads_with_its_inputs_and_default_outputs_and_survives_a_round_trip()
    {
        Assert.Null(PipelineJson.Read(Encoding.UTF8.GetBytes(Full), "p", 64, out var pipeline));
        Assert.Equal(["text", "lang"], PipelineGraph.Inputs(pipeline!.Steps));
        Assert.Equal(["probs"], pipeline.Outputs);
        var choice = Assert.IsType<SwitchStep>(pipeline.Steps[0]);
        Assert.Equal(("lang", new ModelTarget("en", "2"), new ModelTarget("any", "stable")), (choice.Tensor, choice.Cases["en"], choice.Default));

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            PipelineJson.Write(writer, pipeline);
        }

        Assert.Null(PipelineJson.Read(stream.ToArray(), "p", 64, out var again));
        using var first = new MemoryStream();
        using (var writer = new Utf8JsonWriter(first))
        {
            PipelineJson.Write(writer, again!);
        }

        Assert.Equal(stream.ToArray(), first.ToArray());
    }

    [Theory]
    [InlineData("""{"steps":[]}""", "an array of 1 to 64 steps")]
    [InlineData("""{"steps":[{"name":"a","model":"m","input_map":{"x":"t"},"output_map":{"y":"t"}}]}""", "a cycle")]
    [InlineData("""{"steps":[{"name":"a","model":"m","input_map":{"x":"i"},"output_map":{"y":"t"}},{"name":"a","model":"m","input_map":{"x":"t"},"output_map":{"y":"u"}}]}""", "same name")]
    [InlineData("""{"steps":[{"name":"a","model":"m","input_map":{"x":"i"},"output_map":{}}]}""", "at least one tensor")]
    [InlineData("""{"steps":[{"name":"a","model":"m","input_map":{"x":"i"},"output_map":{"y":"t","z":"t"}}]}""", "one pipeline tensor twice")]
    [InlineData("""{"steps":[{"name":"a","model":"m","input_map":{"x":"i"},"output_map":{"y":"t"}}],"outputs":["i"]}""", "produced by no step")]
    [InlineData("""{"steps":[{"name":"a","cascade":{"stages":[{"model":"m"}],"confidence":"y"},"input_map":{"x":"i"},"output_map":{"y":"t"}}]}""", "'cascade' needs")]
    [InlineData("""{"steps":[{"name":"a","cascade":{"stages":[{"model":"m","threshold":0.5},{"model":"n","threshold":0.5}],"confidence":"y"},"input_map":{"x":"i"},"output_map":{"y":"t"}}]}""", "'cascade' needs")]
    [InlineData("""{"steps":[{"name":"a","cascade":{"stages":[{"model":"m","threshold":0.5},{"model":"n"}],"confidence":"nope"},"input_map":{"x":"i"},"output_map":{"y":"t"}}]}""", "'cascade' needs")]
    [InlineData("""{"steps":[{"name":"a","switch":{"parameter":"p","tensor":"t","cases":{}},"input_map":{"x":"i"},"output_map":{"y":"t"}}]}""", "'switch' needs one of")]
    [InlineData("""{"steps":[{"name":"a","switch":{"parameter":"p","cases":{}},"input_map":{"x":"i"},"output_map":{"y":"t"}}]}""", "at least one case or a default")]
    [InlineData("""{"steps":[{"name":"a","aggregate":"median","inputs":["i","j"],"output":"t"}]}""", "\"average\" or \"vote\"")]
    [InlineData("""{"steps":[{"name":"a","aggregate":"vote","inputs":["i"],"output":"t"}]}""", "2 to 16 tensor names")]
    [InlineData("""{"steps":[{"name":"a","model":"m","version":"1.5","input_map":{"x":"i"},"output_map":{"y":"t"}}]}""", "version number or a label")]
    public void Invalid_pipelines_are_refused_with_a_reason(string json, string reason)
    {
        var error = PipelineJson.Read(Encoding.UTF8.GetBytes(json), "p", 64, out _);
        Assert.Equal(StatusCode.InvalidArgument, error!.Code);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Average_and_vote_combine_rows_and_break_ties_by_score_or_label()
    {
        using var a = Tensor.FromArray<float>("a", [2, 3], [0.6f, 0.3f, 0.1f, 0.2f, 0.2f, 0.6f]);
        using var b = Tensor.FromArray<float>("b", [2, 3], [0.1f, 0.5f, 0.4f, 0.1f, 0.2f, 0.7f]);
        Assert.Null(TensorAggregation.Combine(AggregateMethod.Average, [a, b], "mean", out var mean));
        using (mean)
        {
            Assert.Equal([0.35f, 0.4f, 0.25f, 0.15f, 0.2f, 0.65f], mean!.ToArray<float>(), (x, y) => Math.Abs(x - y) < 1e-6);
        }

        // Row 0: one vote each for classes 0 and 1; class 1 has the larger summed score (0.8 against 0.7). Row 1: both say 2.
        Assert.Null(TensorAggregation.Combine(AggregateMethod.Vote, [a, b], "label", out var label));
        using (label)
        {
            Assert.Equal([2L], label!.Shape);
            Assert.Equal([1L, 2L], label.ToArray<long>());
        }

        using var x = Tensor.FromArray<long>("x", [3], [4, 7, 7]);
        using var y = Tensor.FromArray<long>("y", [3], [4, 2, 9]);
        using var z = Tensor.FromArray<long>("z", [3], [5, 2, 8]);
        Assert.Null(TensorAggregation.Combine(AggregateMethod.Vote, [x, y, z], "label", out var labels));
        using (labels)
        {
            Assert.Equal([4L, 2L, 7L], labels!.ToArray<long>()); // majority, majority, a three-way tie to the smallest label
        }

        using var ints = Tensor.FromArray<int>("i", [2], [1, 2]);
        Assert.Contains("average takes FP32 or FP64", TensorAggregation.Combine(AggregateMethod.Average, [ints, ints], "m", out _)!.Message, StringComparison.Ordinal);
        using var wide = Tensor.FromArray<float>("w", [1, 6], [0, 0, 0, 0, 0, 0]);
        Assert.Contains("differ in datatype or shape", TensorAggregation.Combine(AggregateMethod.Average, [a, wide], "m", out _)!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Confidence_is_the_least_sure_rows_top_score()
    {
        using var probs = Tensor.FromArray<float>("p", [3, 2], [0.9f, 0.1f, 0.3f, 0.7f, 0.55f, 0.45f]);
        Assert.Equal(0.55f, (float)TensorAggregation.Confidence(probs)!.Value);
        using var labels = Tensor.FromArray<long>("l", [3], [1, 2, 3]);
        Assert.Null(TensorAggregation.Confidence(labels));
    }

    [Theory]
    [InlineData("""{"platform":"ensemble"}""", "needs ensemble_scheduling")]
    [InlineData("""{"platform":"ensemble","ensemble_scheduling":{"step":[{"model_name":"../x","input_map":{"a":"b"},"output_map":{"c":"d"}}]}}""", "valid model_name")]
    [InlineData("""{"platform":"ensemble","ensemble_scheduling":{"step":[{"model_name":"m","model_version":"x","input_map":{"a":"b"},"output_map":{"c":"d"}}]}}""", "model_version")]
    [InlineData("""{"platform":"ensemble","ensemble_scheduling":{"step":[{"model_name":"m","input_map":{"a":"b"}}]}}""", "input_map and output_map")]
    [InlineData("""{"platform":"ensemble","output":[{"name":"nope"}],"ensemble_scheduling":{"step":[{"model_name":"m","input_map":{"a":"b"},"output_map":{"c":"d"}}]}}""", "produced by no step")]
    public void Broken_triton_ensembles_are_refused_with_the_step_at_fault(string json, string reason)
    {
        var error = TritonEnsemble.Read("e", json, out _);
        Assert.Contains(reason, error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_triton_ensemble_reads_versions_and_numbers_a_model_used_twice()
    {
        const string Json = """
            {"platform":"ensemble","output":[{"name":"out"}],"ensemble_scheduling":{"step":[
              {"model_name":"m","model_version":-1,"input_map":{"x":"in"},"output_map":{"y":"mid"}},
              {"model_name":"m","model_version":"3","input_map":{"x":"mid"},"output_map":{"y":"out"}}]}}
            """;
        Assert.Null(TritonEnsemble.Read("e", Json, out var pipeline));
        Assert.Equal(["m", "m_2"], pipeline!.Steps.Select(s => s.Name));
        Assert.Equal([new ModelTarget("m", null), new ModelTarget("m", "3")], pipeline.Steps.Cast<ModelStep>().Select(s => s.Target));
        Assert.Equal(["in"], PipelineGraph.Inputs(pipeline.Steps));
    }

    [Fact]
    public void Rows_taken_out_and_put_back_land_where_they_came_from()
    {
        using var batch = Tensor.FromArray<float>("p", [4, 2], [0, 1, 10, 11, 20, 21, 30, 31]);
        Assert.True(RowSlicing.CanSplit([batch], 4));
        Assert.False(RowSlicing.CanSplit([batch], 3));
        using var words = Tensor.FromStrings("w", [4], ["a", "b", "c", "d"]);
        Assert.False(RowSlicing.CanSplit([batch, words], 4)); // variable-length rows escalate whole

        using var picked = RowSlicing.Gather(batch, [3, 1]);
        Assert.Equal([2L, 2L], picked.Shape);
        Assert.Equal([30f, 31f, 10f, 11f], picked.ToArray<float>());

        using var answers = Tensor.FromArray<float>("p", [2, 2], [-3, -3, -1, -1]);
        Assert.True(RowSlicing.TryScatter([answers], [batch], [3, 1]));
        Assert.Equal([0f, 1f, -1f, -1f, 20f, 21f, -3f, -3f], batch.ToArray<float>());

        using var wrongShape = Tensor.FromArray<float>("p", [2, 3], [9, 9, 9, 9, 9, 9]);
        Assert.False(RowSlicing.TryScatter([wrongShape], [batch], [3, 1]));
        Assert.Equal([0f, 1f, -1f, -1f, 20f, 21f, -3f, -3f], batch.ToArray<float>()); // nothing written
    }
}
